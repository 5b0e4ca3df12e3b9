"""A tenant's recommender configuration: immutable versions, one of them active."""

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from tenants.managers import TenantOwnedModel


class RecommenderConfig(TenantOwnedModel):
    """One saved version of a tenant's configuration. Never edited: a change is a new version;
    rollback activates an older one. A version never activated is a draft."""

    version = models.PositiveIntegerField()
    data = models.JSONField()
    is_active = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When it last became the active version; None: a draft, saved but never served.
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-version"]
        verbose_name = "recommender configuration"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "version"], name="config_unique_version"),
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(is_active=True), name="config_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.state})"

    @property
    def state(self) -> str:
        if self.is_active:
            return "active"
        return "draft" if self.activated_at is None else "inactive"

    @property
    def encoder(self) -> dict[str, Any]:
        return dict(self.data["encoder"])
