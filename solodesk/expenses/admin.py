from django.contrib import admin

from solodesk.expenses.models import Expense


@admin.register(Expense)
class ExpenseAdmin(admin.ModelAdmin):
    """Expenses are created and changed through the app and the API, where the services
    check the rules (the workspace's client and project, the project of that client, a
    positive amount in a known currency); the admin shows and deletes them, but does not
    edit them around those checks."""

    list_display = ["date", "category", "amount", "currency", "client", "workspace", "is_billable"]
    list_filter = ["category", "is_billable", "currency"]
    list_select_related = ["workspace", "client"]
    search_fields = ["description", "client__name", "public_id"]
    raw_id_fields = ["workspace", "client", "project", "created_by"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    date_hierarchy = "date"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
