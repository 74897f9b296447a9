"""Request body parsers shared by every endpoint."""

import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _no_constants(name: str):
    """Refuse ``NaN``, ``Infinity`` and ``-Infinity``, which JSON does not have."""
    raise ValueError(f"{name} is not a JSON number")


class DecimalJSONParser(JSONParser):
    """JSON with every non-integer number read as an exact ``Decimal``, never a float.

    ``0.1`` stays ``Decimal("0.1")``, so money keeps its exact value from the wire on.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        """Decode the body with exact decimals."""
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(
                stream.read().decode(encoding),
                parse_float=Decimal,
                parse_constant=_no_constants,
            )
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
