"""The catalog and the events: items, end users and their interactions."""

from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from tenants.managers import TenantOwnedModel

EXTERNAL_ID_MAX = 255


class Item(TenantOwnedModel):
    """A thing that can be recommended, identified by the tenant's own id."""

    external_id = models.CharField(max_length=EXTERNAL_ID_MAX)
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    categories = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    available = models.BooleanField(default=True)
    # SHA-256 of the encodable text; the encoder re-encodes only items whose hash changed.
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="item_unique_external_id"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "created_at"], name="item_tenant_created"),
            # Attribute filters (`attr.brand=Acme`) and the check that a filtered attribute exists.
            GinIndex(fields=["attributes"], name="item_attributes_gin"),
            # Category filters: finds a narrow filter's few items without reading the catalog.
            GinIndex(fields=["categories"], name="item_categories_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id}: {self.title}"[:80]


class EndUser(TenantOwnedModel):
    """A user of the tenant's application (the API calls them users)."""

    external_id = models.CharField(max_length=EXTERNAL_ID_MAX)
    attributes = models.JSONField(default=dict, blank=True)
    profile_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # "end user": the console also lists operators (logins), Django's auth users.
        verbose_name = "end user"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="enduser_unique_external_id"
            )
        ]

    def __str__(self) -> str:
        return self.external_id


class Interaction(TenantOwnedModel):
    """One event of a user with an item. `event_id` makes re-sent events idempotent."""

    user = models.ForeignKey(EndUser, on_delete=models.CASCADE, related_name="interactions")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="interactions")
    type = models.CharField(max_length=32)
    value = models.FloatField(default=1.0)
    timestamp = models.DateTimeField()
    # NULL, not "": events without an id stay outside the unique (tenant, event_id) index.
    event_id = models.CharField(max_length=EXTERNAL_ID_MAX, null=True, blank=True)  # noqa: DJ001
    recommendation_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="interaction_unique_event_id",
            )
        ]
        indexes: ClassVar = [
            # a user's recent interactions (profiles, exclude-seen)
            models.Index(fields=["user", "-timestamp"], name="interaction_user_recent"),
            # an item's interactions (co-occurrence, popularity)
            models.Index(fields=["item", "-timestamp"], name="interaction_item_recent"),
            # a tenant's time range (training splits, trending windows)
            models.Index(fields=["tenant", "timestamp"], name="interaction_tenant_time"),
            models.Index(
                fields=["tenant", "recommendation_id"],
                condition=models.Q(recommendation_id__isnull=False),
                name="interaction_attribution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.user_id}→{self.item_id}"
