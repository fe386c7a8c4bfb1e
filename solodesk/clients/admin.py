from django.contrib import admin

from solodesk.clients.models import Client


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "email", "currency", "default_hourly_rate", "is_archived"]
    list_filter = ["is_archived", "currency"]
    list_select_related = ["workspace"]
    search_fields = ["name", "email", "tax_id", "public_id"]
    raw_id_fields = ["workspace"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
