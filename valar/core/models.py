"""Abstract base models every Valar table starts from."""

import uuid

from django.conf import settings
from django.db import models


class Audited(models.Model):
    """A model whose every create, update and delete goes to the audit trail.

    It remembers the values a row was loaded or saved with, so that an update can be recorded
    as ``{field: {old, new}}`` without reading the row again. ``audit_exclude`` names fields
    never recorded.
    """

    audit_exclude: tuple[str, ...] = ("created_at", "updated_at")

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        """Load the row and remember the values it was loaded with (cheaply: one zip)."""
        instance = super().from_db(db, field_names, values)
        instance._audit_loaded = dict(zip(field_names, values, strict=True))
        return instance

    def audit_values(self) -> dict:
        """The row's audited field values, keyed by attribute name."""
        return {
            field.attname: getattr(self, field.attname)
            for field in self._meta.concrete_fields
            if field.name not in self.audit_exclude and field.attname in self.__dict__
        }

    def audit_snapshot(self) -> None:
        """Remember the current values as the baseline of the next update."""
        self._audit_loaded = self.audit_values()

    def audit_changes(self) -> dict:
        """The fields changed since the snapshot, as ``{field: {old, new}}``."""
        loaded = getattr(self, "_audit_loaded", {})
        return {
            field: {"old": loaded[field], "new": value}
            for field, value in self.audit_values().items()
            if field in loaded and loaded[field] != value
        }

    def audit_organization_id(self):
        """The organization the row belongs to (tenant rows: their ``organization``)."""
        return getattr(self, "organization_id", None)


class BaseModel(models.Model):
    """A row with a UUID primary key and creation/update timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuthoredModel(BaseModel):
    """A row that remembers which user created it (kept when that user is deleted)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        abstract = True


class TenantModel(Audited, AuthoredModel):
    """A row that belongs to one organization; every business table derives from it.

    ``owner_fields`` name the user foreign keys that make a caller an owner of the row for
    the policy's ``OWN`` access (who created it, who it is assigned to; a path such as
    ``entry__created_by`` makes a row follow its parent). ``shared_reference`` marks the
    organization's reference data (categories): ``view: own`` still shows every row of it,
    while ``OWN`` writes stay limited to its owners.
    """

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
    )

    owner_fields: tuple[str, ...] = ("created_by",)
    shared_reference: bool = False

    class Meta:
        abstract = True


class LostCacheWrite(models.Model):
    """A cache key a write could not reach while Redis was unreachable, kept until undone.

    A process that could not write a key to Redis (a version bump, a session's deletion)
    records the key here, in the database that stays up; whichever process next reaches Redis
    after an outage, or starts, deletes the recorded keys there (see ``core.rediscache``). So a
    cache entry the lost write should have invalidated is not served by the other processes,
    even when the process that lost the write has ended meanwhile.
    """

    key = models.CharField(max_length=250, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        """Show the key."""
        return self.key


class SystemSetting(models.Model):
    """An operator's value for one key of ``core.sysconfig.SETTINGS``, or its reset.

    ``value`` is ``NULL`` once the key is reset to its default: the row stays, so who changed
    the key last and when remain known. Written only by ``ops`` services (which audit and bump
    the configuration's version); read by every process into its copy (``core.sysconfig``).
    """

    key = models.CharField(max_length=64, primary_key=True)
    value = models.JSONField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        """Show the key."""
        return self.key


class Sequence(models.Model):
    """The last number handed out of one gap-free counter of an organization.

    ``key`` names the counter (``customer``, ``invoice:2026``); :func:`valar.core.sequences.
    next_number` moves it in one locking statement, inside the caller's transaction.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=64)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="sequence_unique_key")
        ]

    def __str__(self) -> str:
        """Show the counter's key and its last number."""
        return f"{self.key}: {self.last}"
