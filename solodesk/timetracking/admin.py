from django.contrib import admin
from django.db import transaction

from solodesk.timetracking.models import RunningTimer, Tag, TimeEntry
from solodesk.timetracking.services import time_entry_days_apply


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace"]
    list_select_related = ["workspace"]
    search_fields = ["name"]
    raw_id_fields = ["workspace"]
    readonly_fields = ["public_id", "created_at", "updated_at"]


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    """Entries are created and changed through the app and the API, where the services check
    the rules (same workspace, end after start, at most 24 h, not yet invoiced); the admin
    shows them and can delete them, but does not edit them around those checks."""

    list_display = ["started_at", "project", "user", "duration_seconds", "is_billable"]
    list_filter = ["is_billable", ("invoiced_at", admin.EmptyFieldListFilter)]
    list_select_related = ["project__client", "user"]
    search_fields = ["description", "project__name", "project__client__name", "user__email"]
    date_hierarchy = "started_at"
    raw_id_fields = ["workspace", "user", "project"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    # Deleting keeps the derived totals (days, months, unbilled time) equal to the entries:
    # what comes off them is each row as it is, read FOR UPDATE (as the services'
    # `_entry_locked`), not the object the admin page loaded before.
    def delete_model(self, request, obj) -> None:
        with transaction.atomic():
            locked = TimeEntry.objects.select_for_update().filter(pk=obj.pk).first()
            if locked is None:
                return  # already deleted
            super().delete_model(request, locked)
            time_entry_days_apply(removed=[locked])

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            by_workspace: dict[int, list[TimeEntry]] = {}
            for entry in queryset.select_related("workspace").select_for_update(of=("self",)):
                by_workspace.setdefault(entry.workspace_id, []).append(entry)
            super().delete_queryset(request, queryset)
            # One upsert per workspace (its time zone), not one per entry.
            for entries in by_workspace.values():
                time_entry_days_apply(removed=entries)


@admin.register(RunningTimer)
class RunningTimerAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "started_at", "workspace"]
    list_select_related = ["user", "project__client", "workspace"]
    search_fields = ["user__email", "project__name"]
    raw_id_fields = ["workspace", "user", "project"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
