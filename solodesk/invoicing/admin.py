"""Admin for power users. Invoices change only through the services (numbering, locks,
activity), so the admin shows them and lets a draft's free-text fields be edited, but never
edits an issued invoice, its lines, payments, counters or activity around those rules."""

from __future__ import annotations

from django.contrib import admin

from solodesk.invoicing.models import (
    DocumentCounter,
    Invoice,
    InvoiceActivity,
    InvoiceLine,
    Payment,
)
from solodesk.invoicing.services import invoice_update_draft

LINE_FIELDS = [
    "position",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "tax_rate",
    "total",
    "project",
    "tracked_seconds",
    "credited_line",
]


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = tuple(LINE_FIELDS)
    raw_id_fields = ["project", "credited_line"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project__client", "credited_line")

    def _is_draft(self, obj: Invoice | None) -> bool:
        return obj is not None and obj.status == Invoice.Status.DRAFT

    def get_readonly_fields(self, request, obj=None):
        # Totals are computed by the services; on an issued invoice nothing changes.
        if self._is_draft(obj):
            return ["total", "tracked_seconds", "credited_line", "project"]
        return LINE_FIELDS

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return self._is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    fields = ["date", "amount", "method", "reference", "recorded_by"]
    readonly_fields = ["date", "amount", "method", "reference", "recorded_by"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


class InvoiceActivityInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceActivity
    fields = ["created_at", "action", "message", "actor"]
    readonly_fields = ["created_at", "action", "message", "actor"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "kind",
        "status",
        "client",
        "workspace",
        "issue_date",
        "due_date",
        "currency",
        "total",
        "amount_paid",
    ]
    list_filter = ["kind", "status", "currency"]
    list_select_related = ["client", "workspace"]
    search_fields = ["number", "client__name", "workspace__name", "public_id"]
    date_hierarchy = "issue_date"
    raw_id_fields = ["workspace", "client", "credited_invoice"]
    inlines = [InvoiceLineInline, PaymentInline, InvoiceActivityInline]
    readonly_fields = [
        "public_id",
        "workspace",
        "client",
        "kind",
        "credited_invoice",
        "status",
        "number",
        "number_year",
        "number_sequence",
        "currency",
        "seller",
        "buyer",
        "subtotal",
        "discount_amount",
        "tax_total",
        "total",
        "amount_paid",
        "issued_at",
        "paid_on",
        "voided_at",
        "created_at",
        "updated_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Invoice.Status.DRAFT:
            return [field.name for field in Invoice._meta.concrete_fields if field.name != "id"]
        # On a draft: the notes and the lines. Dates and the discount have rules (due after
        # issue, percent ≤ 100) that the app's forms check; they are changed there.
        return [*self.readonly_fields, "issue_date", "due_date", "discount_type", "discount_value"]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if form.instance.status == Invoice.Status.DRAFT:
            # Recompute the stored totals from the edited lines and record the change.
            invoice_update_draft(invoice=form.instance, user=request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["date", "amount", "method", "invoice", "reference", "recorded_by"]
    list_select_related = ["invoice", "recorded_by"]
    list_filter = ["method"]
    search_fields = ["reference", "invoice__number", "invoice__client__name"]
    date_hierarchy = "date"


@admin.register(DocumentCounter)
class DocumentCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["workspace", "series", "year", "last_value"]
    list_select_related = ["workspace"]
    list_filter = ["series", "year"]
    search_fields = ["workspace__name"]


@admin.register(InvoiceActivity)
class InvoiceActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "action", "invoice", "actor", "message"]
    list_select_related = ["invoice", "actor"]
    list_filter = ["action"]
    search_fields = ["invoice__number", "message", "actor__email"]
    date_hierarchy = "created_at"
