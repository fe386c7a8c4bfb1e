from django.contrib import admin

from solodesk.projects.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "workspace", "billing_method", "hourly_rate", "is_archived"]
    list_filter = ["is_archived", "billing_method"]
    list_select_related = ["client", "workspace"]
    search_fields = ["name", "client__name", "public_id"]
    raw_id_fields = ["workspace", "client"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
