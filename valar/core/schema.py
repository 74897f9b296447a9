"""OpenAPI additions: problem details and error responses of every operation, the tenant header.

:class:`AutoSchema` declares ``X-Organization`` on every operation that picks its organization
from it; :func:`add_problem_responses` documents the errors, the rate-limit headers and the CSRF
rule of the session scheme; :func:`uuid_path_ids` declares the ids a URL pattern matches as
UUIDs.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter

from valar.core import tenancy

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Field name -> messages (validation errors only).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`errors` maps each field to its messages).",
    "401": "Not authenticated.",
    "403": "Not allowed (role, module, or CSRF).",
    "404": "Not found, or it belongs to another organization.",
    "405": "Method not allowed.",
    "409": "Conflicts with the current state.",
    "413": "The request body is too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests; see Retry-After.",
}
BODY_ERRORS = ("400", "413", "415")
ALWAYS_ERRORS = ("400", "401", "403", "404", "405", "409", "429")
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests allowed."},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Requests left."},
    "X-RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Seconds to reset."},
}


#: The tenant header, as every operation that resolves the organization from it declares it.
ORGANIZATION_HEADER = OpenApiParameter(
    tenancy.HEADER,
    # Empty is allowed: the server reads an empty header as no header.
    {"type": "string", "pattern": f"^({tenancy.REFERENCE_PATTERN})?$"},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "The organization to act in: its id or slug. Without it (or empty), the caller's "
        "default organization. A caller who is not a member of it gets 403."
    ),
)
#: What the session scheme requires beyond the cookie.
SESSION_DESCRIPTION = (
    "The `sessionid` cookie set by `POST /api/v1/auth/login/`. Every unsafe request (POST, "
    "PUT, PATCH, DELETE) with a session must also send the `X-CSRFToken` header with the value "
    "of the `csrftoken` cookie (set by `GET /api/v1/auth/csrf/`), otherwise 403."
)


def uses_tenant_header(view) -> bool:
    """Whether ``view`` picks its organization from ``X-Organization``.

    Every tenant resource does, unless its organization is in the URL
    (``organizations/{organization_pk}/...``); a plain view says so with
    ``uses_tenant_header = True``.
    """
    from valar.core.viewsets import TenantViewSet

    if isinstance(view, TenantViewSet):
        return view.tenant_url_kwarg is None
    return getattr(view, "uses_tenant_header", False)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with ``X-Organization`` on every tenant operation.

    A view lists in ``body_required_methods`` the methods whose body it requires although no
    key in it is (a preferences PUT: missing keys take their defaults, a missing body is a 400).
    """

    def _get_request_body(self, direction="request"):
        """The request body, marked required where the view requires one."""
        body = super()._get_request_body(direction)
        if body and self.method in getattr(self.view, "body_required_methods", ()):
            body["required"] = True
        return body

    def _action_schema(self):
        """``(request, responses)`` a view declares for its current action, if any.

        The bulk and import actions of ``core.bulk_api.BulkMixin`` describe each resource's
        bodies with components built from its own serializer.
        """
        hook = getattr(self.view, "action_schema", None)
        return hook(getattr(self.view, "action", None)) if callable(hook) else None

    def get_request_serializer(self):
        """The view's declared request serializer for its action, else drf-spectacular's."""
        declared = self._action_schema()
        return declared[0] if declared else super().get_request_serializer()

    def get_response_serializers(self):
        """The view's declared responses for its action, else drf-spectacular's."""
        declared = self._action_schema()
        return declared[1] if declared else super().get_response_serializers()

    def get_override_parameters(self):
        """The view's declared parameters, plus the tenant header where it applies."""
        parameters = super().get_override_parameters()
        if uses_tenant_header(self.view):
            parameters = [*parameters, ORGANIZATION_HEADER]
        return parameters


#: How the URL patterns of nested routes and actions match an id (``charts/{chart_id}/``).
URL_ID_PATTERN = "^[0-9a-fA-F-]{36}$"


def uuid_path_ids(result, generator, request, public):
    """drf-spectacular post-processing hook: path ids matched by a URL pattern are UUIDs.

    drf-spectacular reads such a parameter (``chart_id``, ``organization_pk``, ``team_id``,
    ``user_id``) from its regex, as a string with a pattern; the server looks every one of
    them up as a UUID primary key (anything else is a 404), so the schema says ``format: uuid``
    like the router's own ``{id}``, and generated clients take a UUID.
    """
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter["in"] == "path" and schema.get("pattern") == URL_ID_PATTERN:
                    parameter["schema"] = {"type": "string", "format": "uuid"}
    return result


def add_problem_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: document the error responses of every operation.

    Every operation may answer 400/401/403/404/405/409/429 as ``application/problem+json``;
    operations with a request body may also answer 413 and 415. The session scheme says that
    unsafe methods need the ``X-CSRFToken`` header.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    session = result["components"].get("securitySchemes", {}).get("cookieAuth")
    if session is not None:
        session["description"] = SESSION_DESCRIPTION
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = ALWAYS_ERRORS + (BODY_ERRORS if "requestBody" in operation else ())
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": ERROR_DESCRIPTIONS[code],
                        "content": {"application/problem+json": {"schema": problem_ref}},
                    },
                )
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)
    return result


#: What the server parses for each string format (OpenAPI 3.1 treats ``format`` as a mere
#: annotation, so a validator or generator would take ``""`` for a UUID or a date-time).
FORMAT_PATTERNS = {
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "date-time": (
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
        r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
    ),
}


def _add_format_patterns(node) -> None:
    """Give every string schema of a format in :data:`FORMAT_PATTERNS` its pattern."""
    if isinstance(node, dict):
        pattern = FORMAT_PATTERNS.get(node.get("format"))
        if pattern is not None and "pattern" not in node:
            node["pattern"] = pattern
        for value in node.values():
            _add_format_patterns(value)
    elif isinstance(node, list):
        for item in node:
            _add_format_patterns(item)


def add_format_patterns(result, generator, request, public):
    """drf-spectacular post-processing hook: state UUIDs and date-times as patterns too.

    Under OpenAPI 3.1 ``format`` only annotates, so ``""`` would be a valid ``format: uuid``
    string; the server refuses it (a blank id is not ``null``), and the pattern says so.
    """
    _add_format_patterns(result)
    return result
