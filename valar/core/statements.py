"""Compiled list statements, kept per process: the ORM builds a list's SQL once per shape.

Building a list's querysets (the selector, the tenant and reach filters, django-filter,
search, ordering, the display joins) and compiling them to SQL is most of the Python a list
request runs. For a given list, organization, caller, role and set of query parameters, that
work always ends in the same two statements with the same parameters: a ``COUNT(*)`` of the
filtered rows and the page's ``SELECT`` (only ``LIMIT``/``OFFSET`` differ between pages). So
the first such request builds and compiles them as usual and keeps the SQL, its parameters,
the column names and the database converters; the next ones execute the kept statements.

Only requests whose statements are a pure function of the key are kept. The key holds the
view class, its URL kwargs, every column of the organization row and of the caller's
membership row as the request loaded them (a selector may compile one of them into the SQL,
as the reach filters do with the role and modules), the user, the active time zone and every query
parameter but ``page`` and ``page_size``. A list admits a request
only when every filter parameter is one of its ``count_cached_params`` (filters on its own
columns, none relative to today), minus those validated against database rows (model choice
filters). Permissions, throttles and the page number are checked on every request as
before; only a request that succeeded once is kept, so a kept one has passed its filters'
validation with the same values. Nothing else in a key refers to data, so no write but one to
the organization or membership row (which changes the key) can make an entry wrong; entries
leave by least recent use (``LIST_STATEMENT_CACHE`` entries per process, 0 turns the
cache off).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import Count, QuerySet
from django.db.models.sql import Query
from django.utils import timezone
from django_filters.filters import ModelChoiceFilter, ModelMultipleChoiceFilter

#: Parameters that choose the page, never the statements (``LIMIT``/``OFFSET`` are added).
PAGE_PARAMS = frozenset({"page", "page_size"})


@dataclass(frozen=True)
class ListStatements:
    """A list's count and page statements as compiled once, ready to execute again."""

    alias: str
    count_sql: str
    count_params: tuple
    page_sql: str
    page_params: tuple
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple, Any], ...]

    def count(self) -> int:
        """The number of rows the list's filters keep, counted by the kept statement."""
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.count_sql, self.count_params)
            return cursor.fetchone()[0]

    def page(self, bottom: int, top: int) -> list[dict[str, Any]]:
        """Rows ``bottom`` to ``top`` of the list as ``.values()`` would give them."""
        connection = connections[self.alias]
        sql = f"{self.page_sql} {connection.ops.limit_offset_sql(bottom, top)}"
        with connection.cursor() as cursor:
            cursor.execute(sql, self.page_params)
            rows = cursor.fetchall()
        names = self.names
        if not self.converters:
            return [dict(zip(names, row, strict=True)) for row in rows]
        out = []
        for row in rows:
            values = list(row)
            for position, functions, expression in self.converters:
                value = values[position]
                for convert in functions:
                    value = convert(value, expression, connection)
                values[position] = value
            out.append(dict(zip(names, values, strict=True)))
        return out


class _Kept:
    """A bounded, thread-safe map of keys to entries, least recently used first out.

    An entry is the list's statements and the row plan that renders their rows.
    """

    def __init__(self):
        """An empty map."""
        self._entries: OrderedDict[tuple, tuple[ListStatements, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[ListStatements, Any] | None:
        """The entry kept under ``key``, marked as just used."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple, entry: tuple[ListStatements, Any], size: int) -> None:
        """Keep ``entry`` under ``key``, dropping the least recently used past ``size``."""
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry (tests)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """How many entries are kept."""
        return len(self._entries)


kept = _Kept()
_PURE_PARAMS: dict[type, frozenset[str]] = {}


def pure_params(view) -> frozenset[str]:
    """The filter parameters of ``view`` whose statements depend on their values alone.

    They are its ``count_cached_params`` without those a model choice filter validates by
    reading rows (worked out once per view class).
    """
    cls = type(view)
    found = _PURE_PARAMS.get(cls)
    if found is None:
        filterset = getattr(view, "filterset_class", None)
        declared = getattr(filterset, "base_filters", {}) if filterset else {}
        found = frozenset(
            name
            for name in getattr(view, "count_cached_params", ())
            if not isinstance(declared.get(name), ModelChoiceFilter | ModelMultipleChoiceFilter)
        )
        _PURE_PARAMS[cls] = found
    return found


def key(view) -> tuple | None:
    """The key of this list request's statements, or ``None`` when they may not be kept."""
    if not settings.LIST_STATEMENT_CACHE:
        return None
    query = view.request.query_params
    params = tuple(
        sorted((name, tuple(query.getlist(name))) for name in query if name not in PAGE_PARAMS)
    )
    allowed = pure_params(view)
    if any(name not in allowed and name != "ordering" for name, _ in params):
        return None
    tenant = view.tenant
    return (
        type(view),
        tuple(sorted(view.kwargs.items())),
        row_values(tenant.organization),
        row_values(tenant.membership),
        view.request.user.pk,
        timezone.get_current_timezone_name(),
        params,
    )


def row_values(row) -> tuple:
    """Every column of ``row`` (the organization, the membership) as the request loaded it.

    A selector may compile any of them into its SQL (the organization's base currency, the
    member's role and modules); a key holding all of them changes with any change to the row,
    however it was written (``save()``, ``update()``, a migration).
    """
    if row is None:
        return ()
    return tuple(_hashable(getattr(row, field.attname)) for field in row._meta.concrete_fields)


def _hashable(value):
    """``value`` as a hashable key part (JSON lists and objects become tuples)."""
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((name, _hashable(item)) for name, item in value.items()))
    return value


class _Recorded(Exception):
    """Raised by the recording wrapper to stop a statement after recording it."""


def count_statement(counted: QuerySet) -> tuple[str, tuple] | None:
    """The statement Django's ``count()`` of ``counted`` sends, compiled and not sent.

    Django's own ``get_count`` runs on a copy of the query whose compiler records its SQL
    instead of executing it. ``None`` when the count needs no statement (an empty selection)
    or is the kind Django wraps in a subquery of its own (then the list is not kept).
    """
    recorded: list[tuple[str, tuple]] = []
    query = counted.query.clone()

    def recording_compiler(using=None, connection=None, elide_empty=True):
        """The query's compiler, recording its statement in place of executing it."""
        compiler = Query.get_compiler(query, using, connection, elide_empty)

        def execute_sql(*args, **kwargs):
            """Record the statement; stop before any cursor sees it."""
            sql, params = compiler.as_sql()
            recorded.append((sql, tuple(params)))
            raise _Recorded

        compiler.execute_sql = execute_sql
        return compiler

    def refuse(execute, sql, params, many, context):
        """Stop a statement of a query this function did not expect to run."""
        raise _Recorded

    query.get_compiler = recording_compiler
    with connections[counted.db].execute_wrapper(refuse):
        try:
            query.get_aggregation(counted.db, {"__count": Count("*")})
        except _Recorded:
            pass
    return recorded[0] if len(recorded) == 1 else None


def compile_list(counted: QuerySet, rows: QuerySet) -> ListStatements | None:
    """The count of ``counted`` and the page of ``rows`` (a ``.values()`` queryset), compiled.

    ``None`` when a selection compiles to no statement (an empty ``IN``, ``none()``): such a
    list is answered by the ORM as before.
    """
    alias = rows.db
    try:
        counting = count_statement(counted)
        compiler = rows.query.get_compiler(using=alias)
        page_sql, page_params = compiler.as_sql()
    except (EmptyResultSet, FullResultSet):
        return None
    if counting is None:
        return None
    query = rows.query
    names = tuple(
        query.selected
        if query.selected
        else (*query.extra_select, *query.values_select, *query.annotation_select)
    )
    fields = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
    converters = compiler.get_converters(fields)
    return ListStatements(
        alias=alias,
        count_sql=counting[0],
        count_params=counting[1],
        page_sql=page_sql,
        page_params=tuple(page_params),
        names=names,
        converters=tuple(
            (position, tuple(functions), expression)
            for position, (functions, expression) in converters.items()
        ),
    )


def keep(key: tuple, statements: ListStatements, plan) -> None:
    """Keep ``statements`` and the row ``plan`` under ``key`` (``LIST_STATEMENT_CACHE`` at most)."""
    kept.put(key, (statements, plan), settings.LIST_STATEMENT_CACHE)
