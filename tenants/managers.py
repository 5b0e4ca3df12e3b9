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


class TenantChangeError(ValueError):
    """A saved row was about to move to another tenant."""


class TenantOwnedModel(models.Model):
    """Abstract base: a `tenant` foreign key and the scoped manager.

    A row's tenant is fixed once it is saved: `save()` refuses a change (rows of the first
    tenant would keep pointing at it); the database refuses it too for items and users
    (migration 0012), including for `QuerySet.update`.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")

    # Declared first, so it is Django's `_default_manager`: model forms, admin widgets and
    # serializers build querysets before any request scope exists. Our code never names it.
    unscoped_for_django_internals: models.Manager[Any] = models.Manager()
    objects: TenantScopedManager[Any] = TenantScopedManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        saved: Any = getattr(self, "_saved_tenant_id", None)
        if saved is not None and saved != self.tenant_id:
            raise TenantChangeError(
                f"{type(self).__name__} {self.pk} belongs to tenant {saved}; "
                "a saved row cannot move to another tenant"
            )
        super().save(*args, **kwargs)
        self._saved_tenant_id: Any = self.tenant_id

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, **kwargs: Any) -> Any:
        row = super().from_db(db, field_names, values, **kwargs)
        # The tenant as loaded: `save()` compares against it without a query.
        row._saved_tenant_id = row.__dict__.get("tenant_id")
        return row
