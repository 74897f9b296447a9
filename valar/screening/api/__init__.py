"""Screening endpoints under ``/api/v1/screening/``: ``serializers`` and ``views``."""
