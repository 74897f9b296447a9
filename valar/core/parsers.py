"""Request body parsers shared by every endpoint."""

import json
import re
from decimal import Decimal
from itertools import accumulate

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from valar.core.limits import MAX_JSON_DEPTH

#: A JSON string (what lies between its quotes cannot open or close a container).
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
#: Every byte but the four that open and close arrays and objects (deleted before counting).
_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")
#: By byte: +1 opens a container, -1 closes one.
_NESTING_STEP = [
    {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}.get(b, 0) for b in range(256)
]


def _no_constants(name: str):
    """Refuse ``NaN``, ``Infinity`` and ``-Infinity``, which JSON does not have."""
    raise ValueError(f"{name} is not a JSON number")


def nests_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` in JSON ``text``, without parsing.

    Brackets inside strings do not count. Linear in the text (and in C: a few tenths of a
    second for the largest body), and free for the usual body that opens fewer containers
    than the limit.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    marks = _JSON_STRING.sub("", text).encode().translate(None, _NOT_A_BRACKET)
    depths = accumulate(map(_NESTING_STEP.__getitem__, marks))
    return next(filter(limit.__lt__, depths), None) is not None


class DecimalJSONParser(JSONParser):
    """JSON with every non-integer number read as an exact ``Decimal``, never a float.

    ``0.1`` stays ``Decimal("0.1")``, so money keeps its exact value from the wire on. A body
    over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413; one nesting arrays and objects deeper than
    ``MAX_JSON_DEPTH`` is a 400, refused before it is parsed.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        """Decode the body with exact decimals, within the size and depth limits."""
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig("The request body is too large.")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if nests_too_deep(text):
            raise ParseError(
                f"JSON parse error - arrays and objects nest deeper than {MAX_JSON_DEPTH} levels.",
                code="too_deep",
            )
        try:
            return json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
