"""A chart's ``position`` states its bound (2**31 - 1) instead of taking the database's (no SQL)."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('insights', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='chart',
            name='position',
            field=models.PositiveIntegerField(default=0, validators=[django.core.validators.MaxValueValidator(2147483647)]),
        ),
    ]
