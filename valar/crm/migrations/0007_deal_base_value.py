"""Deals keep the rate their value is fixed at and their value in the base currency.

Existing deals in their organization's base currency get rate 1 and ``base_value = value``;
deals in another currency have no known rate: their rate and ``base_value`` stay null (they are
left out of the figures' sums until a rate is given).
"""

from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery


def fix_base_values(apps, schema_editor):
    """Base currency: rate 1 and base value = value; another currency: rate unknown (null)."""
    Deal = apps.get_model("crm", "Deal")
    Organization = apps.get_model("organizations", "Organization")
    base = Subquery(Organization.objects.filter(pk=OuterRef("organization_id")).values("base_currency")[:1])
    deals = Deal.objects.annotate(base_currency=base)
    Deal.objects.filter(pk__in=deals.filter(currency=F("base_currency")).values("pk")).update(
        exchange_rate=1, base_value=F("value")
    )
    Deal.objects.filter(pk__in=deals.exclude(currency=F("base_currency")).values("pk")).update(
        exchange_rate=None, base_value=None
    )


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0006_customer_code_required'),
        ('organizations', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='deal',
            name='exchange_rate',
            field=models.DecimalField(decimal_places=8, default=1, max_digits=18, null=True),
        ),
        migrations.AddField(
            model_name='deal',
            name='base_value',
            field=models.DecimalField(decimal_places=2, editable=False, max_digits=14, null=True),
        ),
        migrations.RunPython(fix_base_values, migrations.RunPython.noop),
    ]
