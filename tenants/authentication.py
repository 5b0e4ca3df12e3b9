"""DRF authentication by API key: `Authorization: Bearer <key>` decides the tenant.

Guarantees: a missing, empty, malformed, unknown or revoked key is refused (401); a key of an
inactive tenant is refused (403); a key without the view's scope is refused (403). Keys are never
logged. A key prefix with too many recent failures is refused (429) without checking the secret,
so a known prefix cannot be used to guess its secret; request rates are limited by
tenants.throttling.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tenants.models import ApiKey
from tenants.ratelimit import auth_blocked_for, auth_failed
from tenants.services import api_key_authenticate, key_prefix


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None  # NotAuthenticated is raised by the permission check
        if header[0].decode("latin-1").lower() != self.keyword.lower() or len(header) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.")
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        prefix = key_prefix(raw_key)
        if prefix:
            blocked = auth_blocked_for(prefix)
            if blocked:
                raise exceptions.Throttled(
                    blocked, detail="Too many failed authentications for this API key."
                )
        key = api_key_authenticate(raw_key=raw_key)
        if key is None:
            if prefix:
                auth_failed(prefix)
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        if not key.tenant.active:
            raise exceptions.PermissionDenied("This tenant is deactivated.")
        return (None, key)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiKeySecurityScheme(OpenApiAuthenticationExtension):
    """Declares `ApiKeyAuthentication` in OpenAPI as the HTTP bearer scheme `bearerAuth`, so each
    operation behind it lists `security: [{bearerAuth: []}]` and /api/docs/ can authorize."""

    target_class = ApiKeyAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A tenant API key: `Authorization: Bearer <key>`. The key decides "
            "the tenant; each operation needs one of its scopes (ingest, recommend, manage).",
        }


class HasTenantScope(BasePermission):
    """Requires an API key carrying the view's `required_scope`."""

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            raise exceptions.NotAuthenticated("An API key is required.")
        scope = getattr(view, "required_scope", None)
        if scope is None:
            return False  # a view that forgot to declare its scope is closed, not open
        if isinstance(scope, dict):
            scope = scope.get(request.method or "GET")
        if scope not in key.scopes:
            raise exceptions.PermissionDenied(f"This API key lacks the '{scope}' scope.")
        return True
