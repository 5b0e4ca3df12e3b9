"""Tenants and their API keys."""

import uuid
from typing import ClassVar

from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

SCOPE_INGEST = "ingest"
SCOPE_RECOMMEND = "recommend"
SCOPE_MANAGE = "manage"
ALL_SCOPES = (SCOPE_INGEST, SCOPE_RECOMMEND, SCOPE_MANAGE)

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1-50 lowercase letters, digits and inner hyphens.",
)


class Tenant(models.Model):
    """One customer of the platform; every catalog, event and model row belongs to one."""

    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    # Free-form operator notes and integration settings; the recommender's own settings are the
    # versioned RecommenderConfig.
    settings = models.JSONField(default=dict, blank=True)
    operators = models.ManyToManyField(
        django_settings.AUTH_USER_MODEL,
        blank=True,
        related_name="operated_tenants",
        help_text="Staff users who may operate this tenant in the admin (superusers see all).",
    )
    # Request rate limits (tenants.ratelimit); empty means the platform default
    # (settings.RECSYS_RATE_LIMITS), 0 means unlimited.
    rate_limit_key_per_s = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Requests per second each API key may sustain (empty: platform default).",
    )
    rate_limit_key_burst = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests one API key may send at once after a pause."
    )
    rate_limit_tenant_per_s = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Requests per second all of the tenant's keys together may sustain.",
    )
    rate_limit_tenant_burst = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests all of the tenant's keys may send at once."
    )
    served_list_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Days a served list (what a response recommended to a user) is kept before the "
        "daily purge deletes it (empty: platform default, RECSYS_SERVED_LIST_RETENTION_DAYS).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["slug"]

    def __str__(self) -> str:
        return self.slug


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


class Operator(User):
    """A console login (Django's auth user) under the name the console gives it: operators, as
    opposed to a tenant's end users (recommender.EndUser). A proxy: no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "operator"
