"""Job kinds, each declared once: the service that runs it, the queue its messages go to, and
whether a tenant app may start it over the API. The Celery task, the enqueueing and the API's
job endpoint all read this registry; `Job.Kind` stays the database's list of kinds, and a test
holds the two equal.

A kind names its service by dotted path, imported when a job of the kind first runs: the services
import `jobs.lifecycle` (for `ProgressReport` and `job_create`), so importing them from here would
be a cycle, and a web process that only enqueues never loads a trainer. Adding a kind is its
service's module and one `job_kind_register` line.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from django.utils.module_loading import import_string

from recommender.models import Job

DEFAULT_QUEUE = "default"
# GPU workers consume it (`recsys_platform.celery` declares both queues).
GPU_QUEUE = "gpu"


class ProgressReport(Protocol):
    """What a job's service calls as it goes: progress in [0, 1] and the counts so far."""

    def __call__(self, progress: float, counts: Mapping[str, Any]) -> None: ...


class JobService(Protocol):
    """The service a job kind runs: does the work, reports progress, returns the final counts."""

    def __call__(self, *, job: Job, report: ProgressReport) -> Mapping[str, Any]: ...


class AbandonHook(Protocol):
    """Cleans up after an attempt that will not finish: its worker died (the job is re-queued or
    taken over) or the job failed. Runs in the caller's transaction; must be idempotent."""

    def __call__(self, *, job: Job, reason: str) -> None: ...


@dataclass(frozen=True)
class JobKind:
    """One kind of job. `service` is the dotted path of its JobService; `abandon`, of its
    AbandonHook where a lost attempt leaves state behind that the kind must fix."""

    name: str
    service: str
    queue: str = DEFAULT_QUEUE
    api_startable: bool = False
    abandon: str | None = None

    def resolve_service(self) -> JobService:
        return cast(JobService, import_string(self.service))

    def resolve_abandon(self) -> AbandonHook | None:
        return None if self.abandon is None else cast(AbandonHook, import_string(self.abandon))


JOB_KINDS: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> JobKind:
    """Add a kind to the registry; a kind registered twice is a mistake and raises."""
    if kind.name in JOB_KINDS:
        raise ValueError(f"Job kind {kind.name!r} is registered already.")
    JOB_KINDS[kind.name] = kind
    return kind


def job_kind(name: str) -> JobKind | None:
    return JOB_KINDS.get(name)


def api_job_kinds() -> tuple[str, ...]:
    """The kinds `POST /api/v1/jobs` starts, in registration order."""
    return tuple(kind.name for kind in JOB_KINDS.values() if kind.api_startable)


_IMPORT_SERVICE = "recommender.services.ingest.file_imports.import_job_run"

# Import jobs need an uploaded file (admin or command line), so the API does not start them.
job_kind_register(JobKind(Job.Kind.IMPORT_ITEMS, _IMPORT_SERVICE))
job_kind_register(JobKind(Job.Kind.IMPORT_USERS, _IMPORT_SERVICE))
job_kind_register(JobKind(Job.Kind.IMPORT_INTERACTIONS, _IMPORT_SERVICE))
job_kind_register(
    JobKind(
        Job.Kind.ENCODE,
        "recommender.services.encoding.encode.encode_job_run",
        queue=GPU_QUEUE,
        api_startable=True,
    )
)
job_kind_register(
    JobKind(
        Job.Kind.TRAIN,
        "recommender.services.training.train.train_job_run",
        queue=GPU_QUEUE,
        api_startable=True,
        abandon="recommender.services.training.train.train_attempt_abandoned",
    )
)
