"""Django admin for power users. Tokens are created in the app (the raw token is shown once
there); the admin can only inspect and revoke them."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from solodesk.accounts.forms import AdminUserChangeForm, AdminUserCreationForm
from solodesk.accounts.models import ApiToken, Membership, User, Workspace
from solodesk.accounts.services import api_token_revoke, time_totals_recount_start


class _MembershipInline(admin.TabularInline):
    """Who belongs where, read on the user's and the workspace's page; memberships are
    added and changed on their own admin page."""

    model = Membership
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        # Each row shows the related user or workspace: load them with the rows.
        return super().get_queryset(request).select_related("user", "workspace")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class UserMembershipInline(_MembershipInline):
    fields = readonly_fields = ("workspace", "role", "created_at")


class WorkspaceMembershipInline(_MembershipInline):
    fields = readonly_fields = ("user", "role", "created_at")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    inlines = (UserMembershipInline,)

    def get_inlines(self, request, obj):
        return self.inlines if obj else ()


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "default_currency", "time_zone", "created_at")
    list_filter = ("default_currency",)
    search_fields = ("name", "tax_id", "public_id")
    readonly_fields = ("public_id", "created_at", "updated_at")
    inlines = (WorkspaceMembershipInline,)

    def save_model(self, request, obj, form, change) -> None:
        """A new time zone queues the recount of the time totals, as the settings page does
        (`workspace_update`, decision 0007), in the admin's transaction: the job is sent to
        the broker after the commit. The job is the workspace owner's (a job is visible to
        its owner only, and the staff user is usually no member): their settings page
        shows the recount."""
        super().save_model(request, obj, form, change)
        time_zone_before = form.initial.get("time_zone", "") if change else ""
        if change and obj.time_zone != time_zone_before:
            time_totals_recount_start(workspace=obj, user=None, time_zone_before=time_zone_before)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "workspace")
    search_fields = ("user__email", "workspace__name")
    raw_id_fields = ("user", "workspace")
    readonly_fields = ("public_id", "created_at", "updated_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "prefix",
        "user",
        "workspace",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user", "workspace")
    search_fields = ("name", "prefix", "user__email", "workspace__name")
    fields = (
        "name",
        "prefix",
        "user",
        "workspace",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = (
        "prefix",
        "user",
        "workspace",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke",)

    def has_add_permission(self, request, obj=None) -> bool:
        # A token made here would have no raw value anyone could use.
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token)
        self.message_user(request, f"Revoked {len(tokens)} token(s).")
