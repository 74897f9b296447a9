"""A stage's ``order`` states its bound (32767) instead of taking the database's (no SQL)."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0002_trigram_search'),
    ]

    operations = [
        migrations.AlterField(
            model_name='stage',
            name='order',
            field=models.PositiveSmallIntegerField(validators=[django.core.validators.MaxValueValidator(32767)]),
        ),
    ]
