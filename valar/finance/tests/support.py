"""Builders the finance tests share: categories, entries and file bytes of each accepted type."""

import datetime
from decimal import Decimal

from valar.finance.models import Category, Kind, LedgerEntry

API = "/api/v1/finance/"

#: The smallest headers that prove each accepted type, padded to a realistic file.
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 64
WEBP = b"RIFF" + (76).to_bytes(4, "little") + b"WEBPVP8 " + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"


def category(organization, name: str = "Sales", kind: str = Kind.INCOME, **extra) -> Category:
    """A category of ``organization``."""
    return Category.objects.create(organization=organization, name=name, type=kind, **extra)


def entry(
    organization,
    category: Category,
    amount: str = "10.00",
    day: datetime.date | str = "2026-01-15",
    **extra,
) -> LedgerEntry:
    """A ledger entry written straight to the table (base currency, rate 1)."""
    amount_value = Decimal(amount)
    return LedgerEntry.objects.create(
        organization=organization,
        kind=category.type,
        title=extra.pop("title", "Entry"),
        amount=amount_value,
        base_amount=amount_value,
        currency=organization.base_currency,
        date=datetime.date.fromisoformat(day) if isinstance(day, str) else day,
        category=category,
        **extra,
    )


def record_incomes(organization, user, number: int, title: str = "E") -> None:
    """``number`` income entries of 10.00 recorded by ``user`` through the service (their own).

    ``entry_create`` as the member ``user`` is in ``organization``, so each entry is theirs
    (``created_by``) and the caches and audit see it as an API write.
    """
    from valar.core.tenancy import Tenant
    from valar.finance.services import entry_create
    from valar.organizations.models import Membership

    membership = Membership.objects.get(organization=organization, user=user)
    tenant = Tenant(organization=organization, membership=membership)
    sales = Category.objects.get_or_create(
        organization=organization, name="Sales", defaults={"type": Kind.INCOME}
    )[0]
    for index in range(number):
        entry_create(
            tenant=tenant,
            kind=Kind.INCOME,
            data={
                "title": f"{title} {index}",
                "amount": Decimal("10.00"),
                "date": datetime.date(2026, 1, 5),
                "category": sales,
            },
        )
