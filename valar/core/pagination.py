"""The one pagination style of the API: ``count/next/previous/results``."""

from django.core.paginator import InvalidPage
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """Page-number pagination: ``page`` and ``page_size`` (default 25, at most 100)."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_rows(
        self, queryset: QuerySet, rows: QuerySet, request, *, count: int | None = None
    ) -> list:
        """Paginate like :meth:`paginate_queryset`, counting ``queryset`` but reading ``rows``.

        ``rows`` is the same selection presented (display joins, annotations, ``.values()``);
        the count is taken on the filtered ``queryset`` so the database can answer it from an
        index, unless ``count`` is given (the count cache knows it).
        """
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        if count is not None:
            paginator.count = count
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(
                self.invalid_page_message.format(page_number=page_number, message=str(exc))
            ) from exc
        bottom = (self.page.number - 1) * paginator.per_page
        return list(rows[bottom : bottom + paginator.per_page])
