"""Test helpers for jobs: Celery settings changed for one block, restored after it."""

from collections.abc import Iterator
from contextlib import contextmanager

from valar.celery import app as celery_app


@contextmanager
def celery_conf(**values) -> Iterator[None]:
    """Set Celery settings (``task_always_eager=False``) for the block, then restore them.

    ``mock.patch.object`` on Celery's settings object deletes the key when it restores it,
    which loses the value configured from Django's settings.
    """
    conf = celery_app.conf
    before = {name: conf[name] for name in values}
    conf.update(values)
    try:
        yield
    finally:
        conf.update(before)
