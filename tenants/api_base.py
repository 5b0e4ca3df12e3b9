"""The base of every tenant API view: the one place a request enters its tenant's scope."""

from contextvars import Token
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from rest_framework.request import Request
from rest_framework.views import APIView

from recsys_platform.errors import ApplicationError
from tenants.models import ApiKey, Tenant
from tenants.scoping import _current_tenant


def _refuse_nul_in_query(request: Request) -> None:
    """PostgreSQL text cannot hold NUL, so no stored value has one: a parameter carrying it is a
    client fault (400), refused here once for every view rather than by each parser."""
    for name, values in request.query_params.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            shown = name.replace("\x00", "\\x00")
            raise ApplicationError(
                "validation_error",
                f"The query parameter '{shown}' contains a NUL character.",
                details=[{"field": shown, "message": "contains a NUL character"}],
            )


class TenantAPIView(APIView):
    """Authenticates the key, then runs the handler inside that key's tenant scope.

    `required_scope` is a scope name, or a dict of HTTP method to scope name. Subclasses read the
    tenant from `self.tenant` and never build querysets from request input alone.
    """

    required_scope: ClassVar[str | dict[str, str] | None] = None
    tenant: Tenant
    _tenant_token: "Token[Tenant | None] | None"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication and scope checks run here
        _refuse_nul_in_query(request)
        key = request.auth
        assert isinstance(key, ApiKey)
        self.tenant = key.tenant
        self._tenant_token = _current_tenant.set(key.tenant)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self._tenant_token = None
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if self._tenant_token is not None:
                _current_tenant.reset(self._tenant_token)
