"""A/B tests of configurations: an experiment splits a tenant's users between two or more
configuration versions by a stable hash, and its served lists record the variant that served."""

from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models

from recommender.models.config import RecommenderConfig
from tenants.managers import TenantOwnedModel


def default_click_types() -> list[str]:
    return ["click"]


def default_conversion_types() -> list[str]:
    return ["purchase"]


class Experiment(TenantOwnedModel):
    """An A/B test of configuration versions. Drafted, then running (at most one per tenant),
    then stopped; promoting a variant activates its configuration. Variants and shares are
    frozen once it starts: a different split is a new experiment."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        RUNNING = "running"
        STOPPED = "stopped"

    name = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Attributed events of these types count as a click / a conversion of the list they name.
    click_types = models.JSONField(default=default_click_types)
    conversion_types = models.JSONField(default=default_conversion_types)
    winner = models.ForeignKey(
        "ExperimentVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status="running"),
                name="experiment_one_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class ExperimentVariant(models.Model):
    """One arm of an experiment: a configuration version and its share of the traffic. Owned by
    its experiment's tenant (reached only through the experiment)."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=32)
    # RESTRICT, not PROTECT: a configuration a variant names stays, unless its tenant goes.
    config = models.ForeignKey(RecommenderConfig, on_delete=models.RESTRICT, related_name="+")
    # Relative: shares 1 and 1 split evenly, 9 and 1 send a tenth of the users to the second.
    share = models.FloatField(validators=[MinValueValidator(0.001)])
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["experiment", "position", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["experiment", "name"], name="variant_unique_name"),
            models.CheckConstraint(condition=models.Q(share__gt=0), name="variant_share_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (config v{self.config.version})"
