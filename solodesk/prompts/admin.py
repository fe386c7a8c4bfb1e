from django.contrib import admin

from solodesk.prompts.models import PromptEvent, PromptState


@admin.register(PromptState)
class PromptStateAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "workspace", "dismissed_at", "snoozed_until", "completed_at"]
    list_select_related = ["user", "workspace"]
    search_fields = ["key", "user__email"]
    raw_id_fields = ["user", "workspace"]


@admin.register(PromptEvent)
class PromptEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "rule", "key", "user"]
    list_filter = ["kind", "rule"]
    list_select_related = ["user"]
    search_fields = ["key", "user__email"]
    raw_id_fields = ["user", "workspace"]
