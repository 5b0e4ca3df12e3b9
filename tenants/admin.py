"""Operator UI for tenants and API keys: create tenants, issue keys (secret shown once), revoke."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from tenants.admin_base import OperableTenantFilter, operable_tenants
from tenants.models import ALL_SCOPES, ApiKey, Tenant
from tenants.services import api_key_create, api_key_revoke


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("prefix", "name", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are issued by the action, which shows the secret once


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "active", "key_count", "created_at")
    search_fields = ("slug", "name")
    list_filter = ("active",)
    filter_horizontal = ("operators",)
    fieldsets = (
        (None, {"fields": ("slug", "name", "active", "settings", "operators")}),
        (
            "Rate limits",
            {
                "description": "Token buckets per API key and for the whole tenant; a request "
                "beyond them is answered 429 with Retry-After. Empty: the platform default "
                "(RECSYS_RATE_* settings); a rate of 0: unlimited.",
                "fields": (
                    ("rate_limit_key_per_s", "rate_limit_key_burst"),
                    ("rate_limit_tenant_per_s", "rate_limit_tenant_burst"),
                ),
            },
        ),
        ("Privacy", {"fields": ("served_list_retention_days",)}),
    )
    inlines = (ApiKeyInline,)
    actions = ("issue_api_key",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return operable_tenants(request.user)

    @admin.display(description="active keys")
    def key_count(self, obj: Tenant) -> int:
        return obj.api_keys.filter(revoked_at__isnull=True).count()

    @admin.action(description="Issue an API key with all scopes (the secret is shown once)")
    def issue_api_key(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            _, raw_key = api_key_create(
                tenant=tenant, scopes=ALL_SCOPES, name=f"admin:{request.user}"
            )
            messages.warning(
                request,
                format_html(
                    "New API key for <b>{}</b> — copy it now, it will not be shown again: "
                    "<code>{}</code>",
                    tenant.slug,
                    raw_key,
                ),
            )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "tenant", "name", "scopes", "state", "last_used_at", "created_at")
    list_filter = (("tenant", OperableTenantFilter),)
    search_fields = ("prefix", "name", "tenant__slug")
    readonly_fields = ("prefix", "tenant", "created_at", "last_used_at", "revoked_at")
    fields = ("tenant", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return (
            super()
            .get_queryset(request)
            .select_related("tenant")
            .filter(tenant__in=operable_tenants(request.user))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued from the tenant list's action, so the secret is shown once

    @admin.display(description="state")
    def state(self, obj: ApiKey) -> str:
        return "revoked" if obj.revoked_at else "active"

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key)
            count += 1
        messages.success(request, f"Revoked {count} key(s) at {timezone.now():%Y-%m-%d %H:%M} UTC.")
