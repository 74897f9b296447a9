"""Amounts fixed in the organization's base currency at a stated rate, exact to the cent.

A ledger entry and a deal in another currency carry the rate to the base currency they were
fixed at; their base amount is ``amount x rate`` rounded half-up to the cent, stored, and is
what every total sums. In the base currency the rate is 1.
"""

from decimal import ROUND_HALF_UP, Decimal

import pycountry

from valar.core.errors import DomainError

#: The ISO 4217 currency codes an amount may be in (pycountry's list), sorted; ``XXX`` (no
#: currency) and ``XTS`` (reserved for testing) are not currencies anyone bills in.
CURRENCIES: tuple[str, ...] = tuple(
    sorted(c.alpha_3 for c in pycountry.currencies if c.alpha_3 not in ("XXX", "XTS"))
)

CENT = Decimal("0.01")
#: Amounts have at most 12 digits before the point.
MAX_AMOUNT = Decimal(10) ** 12


def fixed_rate(
    *, currency: str, exchange_rate: Decimal | None, base_currency: str
) -> Decimal | None:
    """The rate an amount in ``currency`` is fixed at: 1 in the base currency, else the given
    positive rate; ``None`` when another currency has no usable rate."""
    if currency == base_currency:
        return Decimal(1)
    if exchange_rate is None or exchange_rate <= 0:
        return None
    return exchange_rate


def missing_rate(*, base_currency: str, what: str, currency: str) -> str:
    """Why a rate is required: ``Give the rate to USD for a deal in EUR.``"""
    return f"Give the rate to {base_currency} for {what} in {currency}."


def in_base(amount: Decimal, rate: Decimal, *, field: str = "amount") -> Decimal:
    """``amount x rate`` rounded half-up to the cent; too large is a 400 on ``exchange_rate``
    when a rate multiplied it, else on ``field`` (the input the amount came from)."""
    value = (amount * rate).quantize(CENT, ROUND_HALF_UP)
    if abs(value) >= MAX_AMOUNT:
        if rate == 1:
            raise DomainError(
                "The amount is too large.",
                errors={field: ["Amounts must stay below 10^12."]},
            )
        raise DomainError(
            "The amount in the base currency is too large.",
            errors={"exchange_rate": ["amount x exchange_rate must stay below 10^12."]},
        )
    return value
