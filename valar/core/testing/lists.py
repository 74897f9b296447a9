"""Every paginated list of the API, found in the OpenAPI document, and its count statement.

:func:`list_paths` names the lists (any ``GET`` whose 200 answer is a ``Paginated…`` page, the
``@action`` lists included), so a new list is checked without being declared anywhere.
:func:`count_statement` picks the pagination's ``COUNT`` out of captured queries and
:func:`needless_joins` names the tables it joins that nothing outside the join itself reads:
a join that no filter needs, kept only for the display columns of the page.
"""

import re

from valar.core.testing.schema import openapi_schema

#: ``… JOIN "table" [alias] ON (`` as Django writes it on every backend.
JOIN = re.compile(
    r'(?:INNER|LEFT OUTER|RIGHT OUTER|FULL OUTER|CROSS) JOIN "(\w+)"(?: (\w+))? ON \('
)


def list_paths() -> list[tuple[str, list[str]]]:
    """``(path, path parameter names)`` of every paginated ``GET`` of the document."""
    found = []
    for path, item in openapi_schema()["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        answer = operation["responses"].get("200", {}).get("content", {})
        schema = answer.get("application/json", {}).get("schema", {})
        if schema.get("$ref", "").startswith("#/components/schemas/Paginated"):
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            found.append((path, names))
    return found


def count_statement(statements: list[str]) -> str | None:
    """The pagination's ``COUNT`` among captured SQL statements (``None`` when none ran)."""
    counts = [sql for sql in statements if sql.startswith("SELECT COUNT(*)")]
    return counts[-1] if counts else None


def _clause_end(sql: str, start: int) -> int:
    """The index just past the parenthesis that closes the one opened before ``start``."""
    depth = 1
    index = start
    while depth and index < len(sql):
        depth += {"(": 1, ")": -1}.get(sql[index], 0)
        index += 1
    return index


def _reads(text: str, alias: str) -> bool:
    """Whether ``text`` reads a column of ``alias`` (quoted table name or bare ``T3``)."""
    return f'"{alias}".' in text or re.search(rf"(?<![\w\"]){re.escape(alias)}\.", text) is not None


def needless_joins(sql: str) -> list[str]:
    """The tables ``sql`` joins whose columns nothing but their own join condition reads.

    A join is needed when the rest of the statement (its ``WHERE``, ``GROUP BY``, the
    selected columns) reads it, or when the condition of a needed join does; whatever is
    left joins rows only to throw them away, which in a ``COUNT`` means display columns.
    """
    joins = []  # (table, alias, start, end of clause, condition)
    for match in JOIN.finditer(sql):
        end = _clause_end(sql, match.end())
        joins.append((match[1], match[2] or match[1], match.start(), end, sql[match.end() : end]))
    rest, cursor = [], 0
    for _, _, start, end, _ in joins:
        rest.append(sql[cursor:start])
        cursor = end
    rest.append(sql[cursor:])
    outside = "".join(rest)
    needed = {alias for _, alias, *_ in joins if _reads(outside, alias)}
    changed = True
    while changed:
        changed = False
        for _, alias, *_ in joins:
            if alias in needed:
                continue
            if any(_reads(cond, alias) for _, other, _, _, cond in joins if other in needed):
                needed.add(alias)
                changed = True
    return [table for table, alias, *_ in joins if alias not in needed]
