"""Finance endpoints under ``/api/v1/finance/``: ``serializers`` and ``views`` (the viewsets).

``valar.finance.urls`` registers the viewsets of ``views``; other apps import what they reuse
from the module that defines it.
"""
