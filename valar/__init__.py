"""Valar: a multi-tenant business-operations API."""
