"""The one rounding policy of documents: each line rounded half-up to cents, then summed.

A line's ``amount`` is quantity x unit price; its ``discount`` is the discount percent of the
amount; its ``tax`` the tax rate of what is left; its ``total`` what is left plus the tax.
Each of the three is rounded half-up to 2 places on its own line; a document's subtotal,
discount total, tax total and total are plain sums of its lines' rounded figures, so
``total = subtotal - discount_total + tax_total`` holds exactly. The API, the exports and
the figures read the stored results; nothing rounds a second time.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from valar.core.money import CENT, in_base

__all__ = ["LineFigures", "Totals", "document_totals", "in_base", "line_figures", "to_cents"]

HUNDRED = Decimal(100)


def to_cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up to 2 places (the policy's only rounding)."""
    return value.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class LineFigures:
    """A line's rounded amount, discount, tax and total."""

    amount: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class Totals:
    """A document's sums of its lines' rounded figures."""

    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def line_figures(
    quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal
) -> LineFigures:
    """One line's figures, each rounded half-up to cents."""
    amount = to_cents(quantity * unit_price)
    discount = to_cents(amount * discount_percent / HUNDRED)
    tax = to_cents((amount - discount) * tax_rate / HUNDRED)
    return LineFigures(amount=amount, discount=discount, tax=tax, total=amount - discount + tax)


def document_totals(lines: list[LineFigures], *, sign: int = 1) -> Totals:
    """The sums of the lines' figures (negated for a credit note: ``sign=-1``)."""
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    discount_total = sum((line.discount for line in lines), Decimal("0.00"))
    tax_total = sum((line.tax for line in lines), Decimal("0.00"))
    return Totals(
        subtotal=sign * subtotal,
        discount_total=sign * discount_total,
        tax_total=sign * tax_total,
        total=sign * (subtotal - discount_total + tax_total),
    )
