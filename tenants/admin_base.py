"""Admin scoping: which tenants a staff user may operate, and a base for tenant-owned admins.

Guarantees: a staff user sees and reaches only rows of tenants listed in their `operated_tenants`
(superusers: all). A row of another tenant gives the same 404 as a missing one. It does not limit
what a superuser sees.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin as ConsoleModelAdmin

from tenants.managers import TenantScopedManager
from tenants.models import Tenant


def operable_tenants(user: Any) -> QuerySet[Tenant]:
    if not getattr(user, "is_active", False) or not getattr(user, "is_staff", False):
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    return Tenant.objects.filter(operators=user)


class ConsoleAdmin(ConsoleModelAdmin):
    """The one base of every admin of the console (django-unfold's look, detail-page actions)."""

    # Unfold's default, "leave the page?" on every edit, would also prompt on the read-only pages
    # that most of the console's pages are.
    warn_unsaved_form = False


class TenantOwnedAdmin(ConsoleAdmin):
    """Lists and opens only rows of tenants the user may operate; tenant choices likewise.

    A saved row's tenant is read-only: moving a row to another tenant would leave the first
    tenant's rows pointing at it (the models and the database refuse it as well).
    """

    list_select_related = ("tenant",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk is not None and "tenant" not in fields:
            fields = ("tenant", *fields)
        return fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The admin works across tenants, so it takes the explicit, named bypass of the scoped
        # manager and narrows it to the operator's tenants itself.
        queryset = self.model.objects.unscoped()
        ordering = self.get_ordering(request)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return queryset.filter(tenant__in=operable_tenants(request.user))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        if db_field.name == "tenant":
            kwargs["queryset"] = operable_tenants(request.user)
        elif isinstance(getattr(related, "objects", None), TenantScopedManager):
            # Choices for a relation to tenant-owned rows: only the operator's tenants' rows.
            kwargs["queryset"] = related.objects.unscoped().filter(
                tenant__in=operable_tenants(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OperableTenantFilter(admin.RelatedFieldListFilter):
    """The tenant filter of a changelist, offering only tenants the user may operate."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list[Any]:
        return [(t.pk, str(t)) for t in operable_tenants(request.user)]
