"""Admin of items, users and interactions, scoped to the tenants an operator may operate. An
item's page adds its events, vectors and similar items; an end user's page their events and
recommendations (read-only panels under the form)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from recommender.models import EndUser, Interaction, Item
from recommender.services.console.item_page import item_page
from recommender.services.console.user_page import user_page
from recommender.services.privacy.erasure import user_erase_rows
from tenants.admin_base import OperableTenantFilter, TenantOwnedAdmin
from tenants.scoping import tenant_scope


def _panels(
    model_admin: TenantOwnedAdmin, request: HttpRequest, object_id: str, build: Any
) -> dict[str, Any]:
    """The page's panels for a row the operator may see; none for another tenant's row or a
    missing id (the change view then answers as for any missing row)."""
    row = (
        model_admin.get_queryset(request).filter(pk=object_id).first()
        if object_id.isdigit()
        else None
    )
    if row is None:
        return {}
    with tenant_scope(row.tenant):
        return {"panels": build(row)}


@admin.register(Item)
class ItemAdmin(TenantOwnedAdmin):
    list_display = ("external_id", "title", "tenant", "available", "updated_at")
    list_filter = (("tenant", OperableTenantFilter), "available")
    search_fields = ("external_id", "title")
    readonly_fields = ("content_hash", "created_at", "updated_at")
    ordering = ("-updated_at",)
    change_form_template = "admin/recommender/item/change_form.html"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        panels = _panels(self, request, object_id, lambda item: item_page(item=item))
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **panels}
        )


@admin.register(EndUser)
class EndUserAdmin(TenantOwnedAdmin):
    list_display = ("external_id", "tenant", "updated_at")
    list_filter = (("tenant", OperableTenantFilter),)
    search_fields = ("external_id",)
    readonly_fields = ("created_at", "updated_at")
    ordering = ("-updated_at",)
    change_form_template = "admin/recommender/enduser/change_form.html"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        panels = _panels(self, request, object_id, lambda user: user_page(user=user))
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **panels}
        )

    # The admin's delete erases as the API's does (served lists too, which a plain delete would
    # keep with their user unset). It also removes the admin's own log lines about the user,
    # the line recording this deletion included: they carry the user's id.
    def delete_model(self, request: HttpRequest, obj: EndUser) -> None:
        user_erase_rows(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[EndUser]) -> None:
        for user in queryset:
            user_erase_rows(user)


@admin.register(Interaction)
class InteractionAdmin(TenantOwnedAdmin):
    """Events are facts sent by the tenant's app: shown, never edited here."""

    list_display = ("timestamp", "tenant", "user", "item", "type", "value", "event_id")
    list_filter = (("tenant", OperableTenantFilter), "type")
    search_fields = ("event_id", "user__external_id", "item__external_id")
    list_select_related = ("tenant", "user", "item")  # type: ignore[assignment]
    raw_id_fields = ("user", "item")  # a select of every user and item would not scale
    ordering = ("-timestamp",)
    show_full_result_count = False  # COUNT(*) over millions of events on every page is slow

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
