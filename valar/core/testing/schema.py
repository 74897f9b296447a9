"""The OpenAPI document for tests, rendered once per test process."""

import json
from functools import cache

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

#: The operations of a path item (``parameters`` and the rest are not).
METHODS = ("get", "post", "put", "patch", "delete")


@cache
def openapi_document() -> str:
    """The OpenAPI document as ``/api/schema/`` serves it, as JSON text."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return OpenApiJsonRenderer().render(schema, renderer_context={}).decode()


def openapi_schema() -> dict:
    """A fresh parsed copy of :func:`openapi_document` (callers may change it)."""
    return json.loads(openapi_document())
