"""The current tenant of a request or task: the one place tenant context is held.

Guarantees: tenant-owned managers read the tenant from here and refuse to query without one
(fail closed). The API base view and the task wrapper set it and always reset it. It does not
protect raw SQL: `recommender.vectorstore` and the ingest SQL take the tenant explicitly.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenants.models import Tenant

_current_tenant: ContextVar["Tenant | None"] = ContextVar("current_tenant", default=None)


class TenantNotSetError(RuntimeError):
    """A tenant-owned model was queried outside any tenant scope."""


def get_current_tenant() -> "Tenant":
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantNotSetError(
            "No tenant in scope: wrap the call in tenant_scope(tenant) or use "
            "Model.objects.for_tenant(tenant) / .unscoped() explicitly."
        )
    return tenant


def current_tenant_or_none() -> "Tenant | None":
    return _current_tenant.get()


@contextmanager
def tenant_scope(tenant: "Tenant") -> Iterator["Tenant"]:
    token = _current_tenant.set(tenant)
    try:
        yield tenant
    finally:
        _current_tenant.reset(token)
