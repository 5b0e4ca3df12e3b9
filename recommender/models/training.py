"""Trained model versions and the artifacts serving reads: neighbour lists and rankings.

ALS factors live in an EmbeddingSpace of purpose "collaborative" (pgvector, inner product), and
each trained user's top items are stored as one row of arrays; item-to-item sources
(co-occurrence, EASE) store each item's pruned neighbour list the same way, so serving a user
reads one row per item in their history, never the catalog.
"""

from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models

from recommender.models.catalog import EndUser, Item
from recommender.models.config import RecommenderConfig
from recommender.models.jobs import Job
from recommender.models.vectors import EmbeddingSpace
from tenants.managers import TenantOwnedModel


class ModelVersion(TenantOwnedModel):
    """One training run: the sources it fitted, their timings, offline metrics and its status.

    Exactly one version per tenant is active (serving). A new version is ready when trained and
    becomes active when promoted; the version it replaces is retired and its artifacts dropped.
    """

    class Status(models.TextChoices):
        TRAINING = "training"
        READY = "ready"
        ACTIVE = "active"
        FAILED = "failed"
        RETIRED = "retired"

    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRAINING)
    config = models.ForeignKey(
        RecommenderConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cf_space = models.ForeignKey(
        EmbeddingSpace, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"als": {"settings": {...}, "fit_seconds": 1.2, ...}, "popular": {...}}
    sources = models.JSONField(default=dict, blank=True)
    # {"k": 10, "users": 812, "cutoff": "...", "rows": {"fused": {"ndcg": ...}, ...}}
    metrics = models.JSONField(default=dict, blank=True)
    # {"load_s": ..., "evaluate_s": ..., "fit_s": ..., "store_s": ...}
    timings = models.JSONField(default=dict, blank=True)
    # {"users": ..., "items": ..., "interactions": ...}
    data_summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "number"], name="modelversion_unique"),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status="active"),
                name="modelversion_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"model v{self.number} ({self.status})"

    @property
    def label(self) -> str:
        """How the API names the version that served a list."""
        return f"v{self.number}"


class ItemNeighbours(models.Model):
    """An item's pruned neighbour list from one item-to-item source of a model version."""

    # No index of its own: the unique index leads with version_id, and a version_id index lured
    # the planner into walking a new version's every row for a few items (see
    # candidate_store.analyze_artifacts).
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=16)
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    neighbour_ids = ArrayField(models.BigIntegerField())
    weights = ArrayField(models.FloatField())

    class Meta:
        verbose_name_plural = "item neighbours"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["version", "source", "item"], name="itemneighbours_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} neighbours of {self.item_id} (v{self.version_id})"


class UserItems(models.Model):
    """A user's top items from a per-user source of a model version (ALS), ranked at training:
    serving reads one row instead of searching the collaborative space's index."""

    # No index of its own, as for ItemNeighbours.version.
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=16)
    user = models.ForeignKey(
        EndUser, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    item_ids = ArrayField(models.BigIntegerField())
    scores = ArrayField(models.FloatField())

    class Meta:
        verbose_name_plural = "user items"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["version", "source", "user"], name="useritems_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source} items of user {self.user_id} (v{self.version_id})"


class ItemRanking(models.Model):
    """An item's score in one of a version's global rankings (popular, trending)."""

    # No index of its own: itemranking_top leads with version_id.
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    ranking = models.CharField(max_length=16)
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    score = models.FloatField()

    class Meta:
        indexes: ClassVar = [
            # Serving walks a ranking from the top until enough items pass the filters.
            models.Index(fields=["version", "ranking", "-score"], name="itemranking_top"),
        ]

    def __str__(self) -> str:
        return f"{self.ranking} {self.item_id}: {self.score:.3f}"


class RankerModel(models.Model):
    """A version's learned second-stage ranker (LightGBM text model) and the item statistics
    its features read at serving, as of the end of the version's training data."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="+")
    # The enabled sources whose candidates it ranks, in feature order.
    sources = models.JSONField(default=list)
    params = models.JSONField(default=dict)
    model = models.TextField()
    stats_now = models.FloatField()
    # Aligned per item: event count, last event (unix s; -1: none), created (unix s), first
    # category code (-1: none).
    item_ids = ArrayField(models.BigIntegerField())
    item_events = ArrayField(models.FloatField())
    item_last_event = ArrayField(models.FloatField())
    item_created = ArrayField(models.FloatField())
    item_category = ArrayField(models.IntegerField())
    # The attributes its features read (engine.item_attributes specs: "number:price",
    # "label:brand"), and per spec the values aligned with item_ids (numbers, or label codes;
    # null: the item has none). Empty for rankers stored before them.
    attribute_keys = models.JSONField(default=list)
    item_attributes = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"ranker of v{self.version_id}"
