"""Customers get a ``code`` (``CUST-0001``), first nullable so existing rows can be numbered."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0003_stated_integer_bounds'),
        ('core', '0003_sequence'),
    ]

    operations = [
        migrations.AddField(
            model_name='customer',
            name='code',
            field=models.CharField(max_length=20, null=True),
        ),
    ]
