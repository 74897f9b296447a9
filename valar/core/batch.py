"""A write batch: side writes of many row writes collected and flushed once.

The bulk service (:mod:`valar.core.bulk`) writes hundreds of rows with one statement each for
creating, changing and deleting them. What every single write also causes (an audit row, a
version bump of the metrics cache) would still cost a statement or a cache round trip per row.
Inside :func:`batch`, those writers :meth:`Batch.defer` their work instead: each kind of side
write is kept in order and flushed once, by the function that kind registered, when the batch
closes (inside the caller's transaction, so it commits or rolls back with the rows). Outside a
batch nothing changes: every writer writes at once, as before.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_current: ContextVar["Batch | None"] = ContextVar("valar_write_batch", default=None)


class Batch:
    """The side writes deferred while a batch is open, by kind, with each kind's flush."""

    def __init__(self) -> None:
        """Start empty."""
        self.items: dict[str, list[Any]] = {}
        self.flushers: dict[str, Callable[[list[Any]], None]] = {}

    def defer(self, kind: str, item: Any, flush: Callable[[list[Any]], None]) -> None:
        """Keep ``item`` of ``kind``; ``flush`` writes every item of that kind at the end."""
        self.items.setdefault(kind, []).append(item)
        self.flushers.setdefault(kind, flush)

    def flush(self) -> None:
        """Write every kind's items with its flush, in the order the kinds first appeared."""
        while self.items:
            kind = next(iter(self.items))
            items = self.items.pop(kind)
            self.flushers[kind](items)


def current() -> Batch | None:
    """The open batch, if the current code runs inside one."""
    return _current.get()


@contextmanager
def batch() -> Iterator[Batch]:
    """Open a batch; flush it when the block ends normally (drop it when the block raises).

    Run it inside the transaction of the writes it batches, so the flushed side writes are
    part of it.
    """
    opened = Batch()
    token = _current.set(opened)
    try:
        yield opened
        # Flushers may defer more (an audit flush does not, a version bump may): keep going.
        opened.flush()
    finally:
        _current.reset(token)
