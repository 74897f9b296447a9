"""The one pagination style of the API: ``count/next/previous/results``."""

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """Page-number pagination: ``page`` and ``page_size`` (default 25, at most 100)."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
