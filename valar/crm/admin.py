"""Django admin for the CRM."""

from django.contrib import admin

from valar.crm.models import Customer, Deal, Lead, Pipeline, Stage, Vendor


class StageInline(admin.TabularInline):
    """Stages inside their pipeline."""

    model = Stage
    extra = 0
    exclude = ["organization", "created_by"]


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    """Pipelines with their stages."""

    list_display = ["name", "organization", "is_default"]
    inlines = [StageInline]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    """Leads."""

    list_display = ["first_name", "last_name", "company", "status", "score", "organization"]
    list_filter = ["status", "source"]
    search_fields = ["first_name", "last_name", "email", "company"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customers."""

    list_display = ["name", "status", "organization"]
    search_fields = ["name", "email", "company"]


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    """Deals."""

    list_display = ["title", "customer", "value", "currency", "stage", "status"]
    list_filter = ["status"]
    raw_id_fields = ["customer", "stage", "pipeline", "assigned_to", "team"]


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    """Vendors."""

    list_display = ["name", "category", "organization"]
    search_fields = ["name", "company"]
