"""Base model and manager for every tenant-owned table.

`Model.objects` filters by the tenant in scope and raises when none is set. The bypasses are
explicit and named: `Model.objects.for_tenant(t)` and `Model.objects.unscoped()` (admin only).
Django's own machinery (forms, admin widgets, cascades) uses a plain default manager.
"""

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models

from tenants.scoping import get_current_tenant

if TYPE_CHECKING:
    from tenants.models import Tenant

_M = TypeVar("_M", bound=models.Model)


class TenantScopedManager(models.Manager[_M]):
    """Fails closed: without a tenant in scope, `get_queryset()` raises TenantNotSetError."""

    def get_queryset(self) -> models.QuerySet[_M]:
        return super().get_queryset().filter(tenant=get_current_tenant())

    def for_tenant(self, tenant: "Tenant") -> models.QuerySet[_M]:
        return super().get_queryset().filter(tenant=tenant)

    def unscoped(self) -> models.QuerySet[_M]:
        return super().get_queryset()

    def create(self, **kwargs: Any) -> _M:
        # An explicit tenant is an explicit choice; otherwise the tenant in scope (or an error).
        if "tenant" not in kwargs:
            kwargs["tenant"] = get_current_tenant()
        return self.unscoped().create(**kwargs)


class TenantOwnedModel(models.Model):
    """Abstract base: a `tenant` foreign key and the scoped manager."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")

    # Declared first, so it is Django's `_default_manager`: model forms, admin widgets and
    # serializers build querysets before any request scope exists. Our code never names it.
    unscoped_for_django_internals: models.Manager[Any] = models.Manager()
    objects: TenantScopedManager[Any] = TenantScopedManager()

    class Meta:
        abstract = True
