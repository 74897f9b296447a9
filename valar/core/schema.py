"""OpenAPI additions: the problem-details schema and the error responses of every operation."""

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


def add_problem_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: document the error responses of every operation.

    Every operation may answer 400/401/403/404/405/409/429 as ``application/problem+json``;
    operations with a request body may also answer 413 and 415.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
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
