"""Served lists: every response's items under its recommendation_id, for attribution."""

from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models

from recommender.models.catalog import EndUser
from recommender.models.experiments import ExperimentVariant
from recommender.models.training import ModelVersion
from tenants.managers import TenantOwnedModel


class ServedList(TenantOwnedModel):
    """What one response served. Interactions sent back with its `recommendation_id` are
    attributed to it, and through it to the model version and configuration that served."""

    recommendation_id = models.CharField(max_length=32)
    endpoint = models.CharField(max_length=24)
    user = models.ForeignKey(
        EndUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    item_ids = ArrayField(models.BigIntegerField())
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    config_version = models.PositiveIntegerField(null=True, blank=True)
    # The A/B variant that chose the configuration; null outside experiments.
    variant = models.ForeignKey(
        ExperimentVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "recommendation_id"], name="servedlist_unique_id"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["model_version", "created_at"], name="servedlist_version_time"),
            # the retention purge: a tenant's lists older than its cutoff
            models.Index(fields=["tenant", "created_at"], name="servedlist_tenant_time"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.recommendation_id}"
