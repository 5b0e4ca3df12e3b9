"""Jobs: every long operation, with progress an operator and the API can read."""

import uuid
from typing import ClassVar

from django.db import models

from tenants.managers import TenantOwnedModel


class Job(TenantOwnedModel):
    """A long operation run by a worker: kind, status, progress, counts, error and timings."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Kind(models.TextChoices):
        IMPORT_ITEMS = "import_items", "import items"
        IMPORT_USERS = "import_users", "import users"
        IMPORT_INTERACTIONS = "import_interactions", "import interactions"
        ENCODE = "encode", "encode"
        TRAIN = "train", "train"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    # e.g. {"rows": 1200, "created": 1000, "updated": 200}
    counts = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    input_file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    error_details = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written when the job starts and with its progress while it runs: a RUNNING job whose
    # heartbeat has gone stale lost its worker, and the periodic sweep re-queues it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The outbox: set, in the transaction that queues the job, to when its message is owed to the
    # broker; cleared once the broker took it. A message lost with the broker (or with the process
    # between commit and send) is re-sent by the periodic job sweep.
    dispatch_due_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # The process running the current attempt (`services.jobs.owner`): a re-delivered message
    # on the same machine takes the job over at once when that process is gone.
    owner = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "-created_at"], name="job_tenant_recent"),
            # The recovery sweep's query, over every tenant: only running jobs are in it.
            models.Index(
                fields=["heartbeat_at"],
                name="job_running_heartbeat",
                condition=models.Q(status="running"),
            ),
            # The dispatch sweep's query, over every tenant: only jobs whose message is owed.
            models.Index(
                fields=["dispatch_due_at"],
                name="job_dispatch_owed",
                condition=models.Q(dispatch_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} ({self.id})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
