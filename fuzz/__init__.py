"""The fuzz run: schemathesis over the whole OpenAPI schema (``make fuzz``)."""
