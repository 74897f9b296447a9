"""Django admin for finance."""

from django.contrib import admin

from valar.finance.models import Attachment, Category, LedgerEntry, Subcategory


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """Categories."""

    list_display = ["name", "type", "organization"]
    list_filter = ["type"]


@admin.register(Subcategory)
class SubcategoryAdmin(admin.ModelAdmin):
    """Subcategories."""

    list_display = ["name", "category", "organization"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Ledger entries."""

    list_display = ["title", "kind", "amount", "currency", "date", "organization"]
    list_filter = ["kind"]
    search_fields = ["title", "reference"]
    raw_id_fields = ["category", "subcategory", "team", "customer", "vendor", "created_by"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Attachments."""

    list_display = ["original_name", "content_type", "size", "entry"]
