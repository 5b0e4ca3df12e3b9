"""Embedding spaces and their vectors (pgvector). All vector SQL is in recommender.vectorstore."""

import hashlib
import json
from typing import Any, ClassVar

from django.db import models
from pgvector.django import VectorField

from recommender.models.catalog import EndUser, Item
from tenants.managers import TenantOwnedModel


def settings_digest(identity: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


class EmbeddingSpace(TenantOwnedModel):
    """The vectors of one encoder setting for one tenant, in its own partitions of the vector
    tables, with its own HNSW index on its item partition (`recommender.vectorstore`).

    A new encoder setting makes a new space that fills in the background (building) and replaces
    the active one only when complete; the old one is then retired and its vectors dropped.
    Collaborative-filtering factors of a model version are a space too (inner product), active
    while their version serves.
    """

    class Status(models.TextChoices):
        BUILDING = "building"
        ACTIVE = "active"
        RETIRED = "retired"

    class Purpose(models.TextChoices):
        CONTENT = "content", "content (text encoder)"
        COLLABORATIVE = "collaborative", "collaborative (ALS factors)"

    class Metric(models.TextChoices):
        COSINE = "cosine"
        INNER_PRODUCT = "ip", "inner product"

    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.CONTENT)
    metric = models.CharField(max_length=8, choices=Metric.choices, default=Metric.COSINE)
    settings = models.JSONField()
    settings_hash = models.CharField(max_length=64)
    dimension = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BUILDING)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "purpose"],
                condition=models.Q(status="active"),
                name="space_one_active_per_purpose",
            ),
        ]

    def __str__(self) -> str:
        name = self.settings.get("model") or self.purpose
        return f"space {self.pk} ({name}, {self.dimension}d, {self.status})"

    @property
    def index_name(self) -> str:
        return f"itemvector_hnsw_space_{self.pk}"


class ItemVector(models.Model):
    """An item's vector in a space; `content_hash` says which text it encodes."""

    # Constraints in the ORM only (cascading deletes): a database foreign key from a partition
    # locks the referenced table whenever a space's partition is attached or dropped (0012).
    space = models.ForeignKey(
        EmbeddingSpace, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    # No fixed dimension: spaces differ; each space's index casts to vector(dim).
    embedding = VectorField()
    content_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["space", "item"], name="itemvector_unique")
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} in space {self.space_id}"


class UserVector(models.Model):
    """The encoding of a user's profile text in a space (event profiles are computed on read)."""

    space = models.ForeignKey(
        EmbeddingSpace, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    user = models.ForeignKey(
        EndUser, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    embedding = VectorField()
    content_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["space", "user"], name="uservector_unique")
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} in space {self.space_id}"
