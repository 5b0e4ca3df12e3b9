"""Tenants and their API keys."""

import uuid
from typing import ClassVar

from django.conf import settings as django_settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models

SCOPE_INGEST = "ingest"
SCOPE_RECOMMEND = "recommend"
SCOPE_MANAGE = "manage"
ALL_SCOPES = (SCOPE_INGEST, SCOPE_RECOMMEND, SCOPE_MANAGE)

DEFAULT_INTERACTION_TYPES: dict[str, float] = {
    "view": 1.0,
    "click": 2.0,
    "cart": 4.0,
    "purchase": 8.0,
    "rating": 1.0,
    "like": 4.0,
    "dislike": -4.0,
}

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1-50 lowercase letters, digits and inner hyphens.",
)


def default_tenant_settings() -> dict:
    return {"interaction_types": dict(DEFAULT_INTERACTION_TYPES)}


class Tenant(models.Model):
    """One customer of the platform; every catalog, event and model row belongs to one."""

    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    settings = models.JSONField(
        default=default_tenant_settings,
        blank=True,
        help_text='Tenant settings, e.g. {"interaction_types": {"view": 1.0, "purchase": 8.0}}.',
    )
    operators = models.ManyToManyField(
        django_settings.AUTH_USER_MODEL,
        blank=True,
        related_name="operated_tenants",
        help_text="Staff users who may operate this tenant in the admin (superusers see all).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def interaction_types(self) -> dict[str, float]:
        types = (self.settings or {}).get("interaction_types") or DEFAULT_INTERACTION_TYPES
        return {str(name): float(weight) for name, weight in types.items()}


class ApiKey(models.Model):
    """A tenant's API key. Only the SHA-256 digest of the secret is stored; the prefix is shown."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=16), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.tenant.slug})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
