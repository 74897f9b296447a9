"""Django admin for organizations, memberships and teams."""

from django.contrib import admin

from valar.organizations.models import Membership, Organization, Team, TeamMembership


class MembershipInline(admin.TabularInline):
    """Members inside their organization."""

    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Organizations with their members."""

    list_display = ["name", "slug", "base_currency", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams, by organization."""

    list_display = ["name", "organization", "lead"]
    list_filter = ["organization"]
    search_fields = ["name"]
    raw_id_fields = ["lead"]


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    """Who is in which team."""

    list_display = ["team", "user", "created_at"]
    raw_id_fields = ["team", "user"]
