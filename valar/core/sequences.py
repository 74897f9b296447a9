"""Gap-free numbers per organization: customer codes, quote and invoice numbers.

A number is taken with one statement (``INSERT … ON CONFLICT DO UPDATE … RETURNING``) that
creates or moves the counter's row and keeps it locked until the caller's transaction ends. A
second transaction asking for the same counter waits; a rolled-back transaction gives its
number back. So numbers are unique and leave no gap, provided the number is taken inside the
same transaction that saves the row carrying it (``next_number`` refuses to run outside one).
"""

from django.db import connection, transaction

from valar.core.models import Sequence


def next_number(organization_id, key: str) -> int:
    """The next number of the counter ``key`` of the organization (1 for a new counter).

    Must be called inside ``transaction.atomic``: the counter stays locked until it commits.
    """
    return next_numbers(organization_id, key, 1)[0]


def next_numbers(organization_id, key: str, count: int) -> range:
    """The next ``count`` numbers of the counter ``key``, taken in one statement.

    For writes that save many rows at once (a bulk write, an import). Must be called inside
    ``transaction.atomic``, as :func:`next_number`.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that uses the number.")
    if count < 1:
        return range(0)
    quote = connection.ops.quote_name
    table = quote(Sequence._meta.db_table)
    key_column, last = quote("key"), quote("last")
    organization = Sequence._meta.get_field("organization").target_field.get_db_prep_value(
        organization_id, connection, prepared=False
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organization_id, {key_column}, {last}) "  # noqa: S608
            f"VALUES (%s, %s, %s) ON CONFLICT (organization_id, {key_column}) "
            f"DO UPDATE SET {last} = {table}.{last} + %s RETURNING {last}",
            [organization, key, count, count],
        )
        end = cursor.fetchone()[0]
    return range(end - count + 1, end + 1)


def formatted(prefix: str, number: int, *, year: int | None = None, width: int = 4) -> str:
    """A number as people read it: ``CUST-0001``, or ``INV-2026-0001`` with a year."""
    middle = f"-{year}" if year is not None else ""
    return f"{prefix}{middle}-{number:0{width}d}"
