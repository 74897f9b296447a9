"""Number the existing customers of each organization by creation, and move its counter on.

Each organization's customers get ``CUST-0001``, ``CUST-0002``... ordered by ``created_at``
(then id), and its ``customer`` counter is set to how many it has, so the next customer takes
the next number. Rows are read and written in batches; it runs the same on SQLite and
PostgreSQL (the numbers are formatted by ``core.sequences.formatted``, not by SQL).
"""

from django.db import migrations
from django.db.models import Count

from valar.core.sequences import formatted

BATCH = 1000


def number_customers(apps, schema_editor):
    """Give every customer without a code the next code of its organization."""
    Customer = apps.get_model("crm", "Customer")
    Sequence = apps.get_model("core", "Sequence")
    counts = (
        Customer.objects.values("organization_id")
        .annotate(n=Count("pk"))
        .order_by("organization_id")
        .values_list("organization_id", "n")
    )
    for organization_id, count in counts:
        rows = Customer.objects.filter(organization_id=organization_id).order_by("created_at", "pk")
        batch = []
        for number, customer in enumerate(rows.only("pk").iterator(chunk_size=BATCH), 1):
            customer.code = formatted("CUST", number)
            batch.append(customer)
            if len(batch) == BATCH:
                Customer.objects.bulk_update(batch, ["code"])
                batch = []
        Customer.objects.bulk_update(batch, ["code"])
        Sequence.objects.update_or_create(
            organization_id=organization_id, key="customer", defaults={"last": count}
        )


def forget_codes(apps, schema_editor):
    """Undo: clear the codes and the counters."""
    apps.get_model("crm", "Customer").objects.update(code=None)
    apps.get_model("core", "Sequence").objects.filter(key="customer").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0004_customer_code'),
    ]

    operations = [
        migrations.RunPython(number_customers, forget_codes),
    ]
