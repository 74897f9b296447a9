"""Sessions in the database behind the cache, served by the database when the cache is down.

Django's ``cached_db`` engine reads the cache first but lets a cache error through (every
session request answers 500 while Redis is down). This engine treats every cache error as a
miss: reads go to the database, writes still reach the database (the one source of truth),
and a session changed or ended while Redis was unreachable is deleted from Redis when it
answers again (see :mod:`valar.core.rediscache`), so a signed-out session never comes back.
"""

import logging

from django.contrib.sessions.backends import cached_db

from valar.core import sysconfig

logger = logging.getLogger("valar.cache")


class SessionStore(cached_db.SessionStore):
    """``cached_db`` sessions that fall back to the database on any cache error."""

    def load(self):
        """The session's data from the cache, else the database (then cached if possible).

        The same round trip reads the runtime configuration's version (``core.sysconfig``),
        so the idle timeout checked next is the current one at no extra cost.
        """
        config = sysconfig.version_key()
        try:
            found = self._cache.get_many([self.cache_key, config])
        except Exception:  # noqa: BLE001  the cache is down (or refused the key)
            logger.warning("Cache unavailable; session read from the database")
            sysconfig.unverified()
            return self._load_from_db(cache=False)
        sysconfig.observe(found.get(config))
        data = found.get(self.cache_key)
        if data is None:
            return self._load_from_db(cache=True)
        return data

    def _load_from_db(self, *, cache: bool) -> dict:
        """Read the session row; store it in the cache when ``cache`` (errors ignored)."""
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        if cache:
            try:
                self._cache.set(
                    self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date)
                )
            except Exception:  # noqa: BLE001
                logger.warning("Cache unavailable; session not cached")
        return data

    def exists(self, session_key):
        """Whether the key is taken, asking the database when the cache cannot tell."""
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:  # noqa: BLE001
            logger.warning("Cache unavailable; session key checked in the database")
        return super(cached_db.SessionStore, self).exists(session_key)

    def save(self, must_create=False):
        """Save to the database, then to the cache (a cache error is only logged)."""
        super(cached_db.SessionStore, self).save(must_create)
        try:
            self._cache.set(self.cache_key, self._session, self.get_expiry_age())
        except Exception:  # noqa: BLE001
            logger.warning("Cache unavailable; session saved to the database only")

    def delete(self, session_key=None):
        """Delete from the database, then from the cache (a cache error is only logged)."""
        super(cached_db.SessionStore, self).delete(session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:  # noqa: BLE001
            logger.warning("Cache unavailable; session deleted from the database only")
