"""JSON answers rendered with orjson, byte for byte what DRF's ``JSONRenderer`` writes.

Every type orjson does not write natively the way DRF does (datetimes, dates, times, and
anything else: lazy strings, querysets, timedeltas) goes through DRF's own encoder, so dates
and times keep DRF's format. A ``Decimal`` never becomes a float: it is written as its exact
string (DRF's encoder would write a float; serializers already give money as strings). A
client that asks for indentation (``Accept: application/json; indent=4``), or data orjson
refuses (an integer beyond 64 bits), gets DRF's renderer.
"""

import decimal

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_encoder = JSONEncoder()


def _default(value):
    """Encode what orjson leaves to us: exact decimals, then DRF's encoder for the rest."""
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise TypeError(f"{value} is not a JSON number")
        return str(value)
    return _encoder.default(value)


class OrjsonRenderer(JSONRenderer):
    """DRF's ``JSONRenderer`` output (compact, UTF-8, U+2028/9 escaped), written by orjson."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        """Render ``data``; indentation, or what orjson refuses, falls back to DRF's renderer."""
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=_default, option=OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # Like DRF: the two line separators JavaScript reads as line ends are escaped.
        if b"\xe2\x80\xa8" in rendered or b"\xe2\x80\xa9" in rendered:
            rendered = rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(
                b"\xe2\x80\xa9", b"\\u2029"
            )
        return rendered


def plain(data):
    """``data`` as the API writes it, read back as plain JSON values (UUIDs and times as
    strings): what a channel-layer event or a socket frame may carry."""
    return orjson.loads(orjson.dumps(data, default=_default, option=OPTIONS))
