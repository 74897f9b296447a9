"""Serializer fields shared by every app."""

from rest_framework import serializers


class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key in a request body that must belong to the request's organization.

    A row of another organization is reported exactly like a missing one: a 400 on the field,
    never a hint that it exists. ``tenant_lookup`` is the path from the related model to its
    organization (``organization`` for tenant models, ``memberships__organization`` for users).
    """

    def __init__(self, *, tenant_lookup: str = "organization", **kwargs):
        """Keep the lookup path to the organization."""
        self.tenant_lookup = tenant_lookup
        super().__init__(**kwargs)

    def get_queryset(self):
        """The declared queryset narrowed to the request's organization (none without one)."""
        queryset = super().get_queryset()
        tenant = self.context.get("tenant")
        if tenant is None:
            return queryset.none()
        return queryset.filter(**{self.tenant_lookup: tenant.organization}).distinct()
