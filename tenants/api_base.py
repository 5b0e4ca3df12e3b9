"""The base of every tenant API view: the one place a request enters its tenant's scope."""

from contextvars import Token
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from rest_framework.request import Request
from rest_framework.views import APIView

from tenants.models import ApiKey, Tenant
from tenants.scoping import _current_tenant


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
