from django.contrib import admin
from django.db import transaction

from solodesk.timetracking.models import RunningTimer, Tag, TimeEntry
from solodesk.timetracking.services import time_entries_own_json_rebuild, time_entry_days_apply


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """A renamed or deleted tag changes the tag names its entries store as JSON
    (`TimeEntry.own_json`): those entries' JSON is written again from their tags."""

    list_display = ["name", "workspace"]
    list_select_related = ["workspace"]
    search_fields = ["name"]
    raw_id_fields = ["workspace"]
    readonly_fields = ["public_id", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change:
                time_entries_own_json_rebuild(entries=TimeEntry.objects.filter(tags=obj))

    def delete_model(self, request, obj) -> None:
        self.delete_queryset(request, Tag.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            tagged = list(
                TimeEntry.tags.through.objects.filter(tag__in=queryset).values_list(
                    "timeentry_id", flat=True
                )
            )
            super().delete_queryset(request, queryset)
            for at in range(0, len(tagged), 10_000):  # under SQLite's limit of parameters
                chunk = tagged[at : at + 10_000]
                time_entries_own_json_rebuild(entries=TimeEntry.objects.filter(pk__in=chunk))


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
