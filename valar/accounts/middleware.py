"""The session's user, read with the caller's membership in one cache round trip.

Django's ``AuthenticationMiddleware`` reads the signed-in user's row on every request. This
one keeps the user as a cache entry validated by the user's ``account`` version (every save or
delete of the user bumps it: a password change, a lock or a deactivation applies at once), and
reads it together with the membership entry of the organization the request names (the
``X-Organization`` header, else the default) and both versions: one ``MGET``. A process that
read the entries recently has them in its own copy and fetches only the versions.

Everything else is Django's: the session's backend must be a configured one, and the session
hash is checked against the user's password (and security stamp) as ``auth.get_user`` does.
The entry never carries the password hash: it holds the user with ``password`` deferred and
the session hash computed from it when the row was read (the value every session of that user
already stores), so a copy of the cache reveals no password hash. Code that needs the password
(a password change) loads it from the database; ``save()`` of such a user leaves it untouched.
When the cache cannot be reached the user is read from the database.
"""

import copy
import logging

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from valar.core import entries, tenancy, versions

logger = logging.getLogger("valar.cache")

#: How long a user entry lives in the cache (its version invalidates it at once anyway).
USER_TTL = 300


def user_entry(user_pk) -> tuple[str, tuple[str, str]]:
    """The cache key of a user's entry and the version that validates it."""
    return f"user-entry:{user_pk}", (tenancy.USER_SCOPE.format(user_pk), "account")


class CachedAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's authentication middleware with the user read through the cache."""

    def process_request(self, request):
        """Set ``request.user`` lazily (and ``request.auser`` as Django does)."""
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))


def get_user(request):
    """The session's user (``AnonymousUser`` when none), as ``django.contrib.auth.get_user``."""
    if not hasattr(request, "_cached_user"):
        request._cached_user = _session_user(request) or auth.models.AnonymousUser()
    return request._cached_user


def _session_user(request):
    """The signed-in user of the session, or ``None`` (the session is flushed if it fails)."""
    session = request.session
    try:
        user_id = auth._get_user_session_key(request)
        backend_path = session[auth.BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    backend = auth.load_backend(backend_path)
    user, known_hash = _load(request, backend, user_id)
    if user is None:
        return None
    session_hash = session.get(auth.HASH_SESSION_KEY)
    if session_hash and known_hash and constant_time_compare(session_hash, known_hash):
        return user
    if session_hash and constant_time_compare(session_hash, user.get_session_auth_hash()):
        return user
    if session_hash and any(
        constant_time_compare(session_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    ):
        session.cycle_key()
        session[auth.HASH_SESSION_KEY] = user.get_session_auth_hash()
        return user
    session.flush()
    return None


def _load(request, backend, user_id) -> tuple[object, str | None]:
    """The active user ``user_id`` and its session hash, from the cache entry or the database.

    A user read from the database is cached (without its password hash, see :func:`entry_of`).
    The same round trip reads the membership entry tenancy will want, kept on the request.
    The hash is ``None`` when the database answered and nothing was cached.
    """
    wanted = dict([user_entry(user_id)])
    membership = tenancy.membership_entry(user_id, tenancy.header_reference(request))
    if membership is not None:
        wanted[membership[0]] = membership[1]
    try:
        found = entries.fetch(wanted)
    except Exception:  # noqa: BLE001  the cache is down: the database still answers
        logger.warning("Cache unavailable; user read from the database")
        return backend.get_user(user_id), None
    request.valar_entries = found
    key = user_entry(user_id)[0]
    version, entry = found[key]
    if entry is entries.MISSING:
        user = backend.get_user(user_id)
        if user is None:
            return None, None
        entry = entry_of(user)
        entries.store(key, version, entry, USER_TTL)
        return user, entry[1]
    user, known_hash = entry
    return (user, known_hash) if backend.user_can_authenticate(user) else (None, None)


def entry_of(user) -> tuple[object, str]:
    """The cache entry of a user: a copy with ``password`` deferred, and its session hash.

    Django treats a field missing from the instance's ``__dict__`` as deferred: reading it
    loads it from the database, and ``save()`` writes only the loaded fields.
    """
    stripped = copy.copy(user)
    stripped.__dict__.pop("password", None)
    return stripped, user.get_session_auth_hash()


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def forget_cached_user(sender, instance, **kwargs) -> None:
    """A changed user is read again by its next request (password, stamp, lock, name)."""
    versions.bump(tenancy.USER_SCOPE.format(instance.pk), "account")
