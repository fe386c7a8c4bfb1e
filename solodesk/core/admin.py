"""Jobs in the admin: a read-only view of background work, for support and debugging. Their
state changes only through the workers (core.services)."""

from __future__ import annotations

from django.contrib import admin

from solodesk.core.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "kind",
        "status",
        "progress",
        "owner",
        "workspace",
        "attempts",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind", "created_at")
    list_select_related = ("owner", "workspace")
    search_fields = ("public_id", "owner__email", "workspace__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing only: the change page renders read-only, with no save buttons.
        return False
