"""The one pagination style of the API: ``count/next/previous/results``."""

from collections.abc import Callable

from django.core.paginator import InvalidPage
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

from valar.core import sysconfig


def page_size_param(request, name: str, maximum: int) -> int | None:
    """The ``page_size`` query parameter: a whole number from 1, read as at most ``maximum``.

    ``page_size=true``, ``page_size=`` or ``page_size=0`` are 400s on the parameter (the
    schema declares an integer from 1), not silently the default; a size above the maximum
    is read as the maximum, as the schema's description says.
    """
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ValidationError({name: [f"Give a whole number from 1 (at most {maximum} are used)."]})
    return min(int(raw), maximum)


class StandardPagination(PageNumberPagination):
    """Page-number pagination: ``page`` and ``page_size`` (default 25, at most 100).

    ``page`` is a page number from 1 (or ``last``); one that is not a page (also an empty
    ``page=``) is a 404.
    ``page_size`` is a whole number from 1 (above 100 read as 100); anything else is a 400.
    Without it a page has the runtime setting ``page_size`` rows (``core.sysconfig``; its
    default ``PAGE_SIZE``, 25).
    """

    page_size_query_param = "page_size"
    max_page_size = 100

    @property
    def page_size(self) -> int:
        """The default page size: the runtime setting, current for this request."""
        return sysconfig.value("page_size")

    def get_page_size(self, request) -> int:
        """The requested page size, or the default; a malformed one is a 400."""
        size = page_size_param(request, self.page_size_query_param, self.max_page_size)
        return self.page_size if size is None else size

    def get_page_number(self, request, paginator):
        """The requested page; an empty ``page=`` is not a page (a 404), not the first one."""
        if request.query_params.get(self.page_query_param) == "":
            return ""
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        """Declare the lower bound both parameters are checked against, and the cap."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    "Number of results to return per page (default: the platform setting "
                    f"`page_size`, {sysconfig.SETTINGS['page_size'].default()} unless an "
                    f"operator changed it; a larger number than {self.max_page_size} is read "
                    f"as {self.max_page_size})."
                )
        return parameters

    def paginate_rows(
        self,
        queryset: QuerySet | None,
        rows: QuerySet | Callable[[int, int], list],
        request,
        *,
        count: int | None = None,
    ) -> list:
        """Paginate like :meth:`paginate_queryset`, counting ``queryset`` but reading ``rows``.

        ``rows`` is the same selection presented (display joins, annotations, ``.values()``),
        or a function of the page's bounds that reads them (a kept statement); the count is
        taken on the filtered ``queryset`` so the database can answer it from an index, unless
        ``count`` is given (the count cache or a kept statement knows it).
        """
        self.request = request
        paginator = self.django_paginator_class(
            () if queryset is None else queryset, self.get_page_size(request)
        )
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
        if callable(rows):
            return rows(bottom, bottom + paginator.per_page)
        return list(rows[bottom : bottom + paginator.per_page])


class AfterPagination:
    """Keyset pagination over a whole-number key that only grows (a chat's message numbers):
    ``after`` (the last key the client has, 0 by default) and ``page_size``.

    The answer is ``{next, results}``: ``next`` is the URL of the following page (``after``
    the page's last key) or ``null`` at the end; nothing is counted, a page reads
    ``page_size + 1`` rows by the key's index, and a client that keeps the last key it saw
    resumes there: rows added meanwhile come next, none is skipped or repeated.
    """

    page_size_query_param = "page_size"
    max_page_size = 100

    def __init__(self, key: str):
        """Paginate by the integer field ``key``."""
        self.key = key

    def paginate(self, queryset: QuerySet, request, after: int) -> list:
        """The rows after ``after`` in key order, one page of them."""
        size = page_size_param(request, self.page_size_query_param, self.max_page_size)
        size = sysconfig.value("page_size") if size is None else size
        rows = list(queryset.filter(**{f"{self.key}__gt": after}).order_by(self.key)[: size + 1])
        self.request, self.more = request, len(rows) > size
        self.rows = rows[:size]
        return self.rows

    def next_link(self) -> str | None:
        """The URL of the next page, or ``None`` after the last row."""
        if not self.more:
            return None
        from rest_framework.utils.urls import replace_query_param

        url = self.request.build_absolute_uri()
        return replace_query_param(url, "after", getattr(self.rows[-1], self.key))

    @classmethod
    def parameters(cls, description: str) -> list:
        """The OpenAPI parameters: ``after`` (described by the caller) and ``page_size``."""
        from drf_spectacular.utils import OpenApiParameter

        return [
            OpenApiParameter("after", {"type": "integer", "minimum": 0}, description=description),
            OpenApiParameter(
                cls.page_size_query_param,
                {"type": "integer", "minimum": 1},
                description="Rows per page (default: the platform setting `page_size`; a "
                f"larger number than {cls.max_page_size} is read as {cls.max_page_size}).",
            ),
        ]
