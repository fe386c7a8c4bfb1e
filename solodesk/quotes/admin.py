"""Read-mostly admin for quotes: changes go through the services (pages and API), so the
admin shows quotes, their lines and activity without letting numbers or answers be edited."""

from __future__ import annotations

from django.contrib import admin

from solodesk.quotes.models import Quote, QuoteActivity, QuoteLine


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    can_delete = False
    fields = ("position", "description", "quantity", "unit", "unit_price", "tax_rate", "total")
    readonly_fields = fields


class QuoteActivityInline(admin.TabularInline):
    model = QuoteActivity
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "message", "actor")
    readonly_fields = fields


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ("__str__", "workspace", "client", "status", "valid_until", "total", "currency")
    list_filter = ("status",)
    search_fields = ("number", "client__name", "workspace__name")
    list_select_related = ("workspace", "client")
    inlines = [QuoteLineInline, QuoteActivityInline]
    readonly_fields = [field.name for field in Quote._meta.concrete_fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
