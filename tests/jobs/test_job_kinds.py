"""The job kind registry: every database kind is registered once, and a new kind is one
registration that the enqueueing, the runner and the API all pick up (a toy kind proves it)."""

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from recommender.models import Job
from recommender.services.jobs.api_start import job_start_from_api
from recommender.services.jobs.kinds import (
    GPU_QUEUE,
    JOB_KINDS,
    JobKind,
    ProgressReport,
    api_job_kinds,
    job_kind_register,
)
from recommender.services.jobs.lifecycle import job_create, job_run
from recsys_platform.celery import app as celery_app
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

TOY = "toy"


def toy_job_run(*, job: Job, report: ProgressReport) -> Mapping[str, Any]:
    """The toy kind's service: reports half-way, returns what it was given."""
    report(0.5, {"halfway": 1})
    return {"echo": job.params.get("say", ""), "tenant": job.tenant.slug}


def test_every_database_kind_has_exactly_one_registration() -> None:
    assert sorted(JOB_KINDS) == sorted(Job.Kind.values)
    assert all(name == kind.name for name, kind in JOB_KINDS.items())
    for name in Job.Kind.values:
        with pytest.raises(ValueError, match="registered already"):
            job_kind_register(JobKind(name, f"{__name__}.toy_job_run"))
    assert sorted(JOB_KINDS) == sorted(Job.Kind.values)


def test_every_kind_names_a_service_and_a_queue_that_exist() -> None:
    declared = {queue.name for queue in celery_app.conf.task_queues}
    for kind in JOB_KINDS.values():
        assert callable(kind.resolve_service()), kind.name
        assert kind.queue in declared, kind.name


def test_the_derived_lists_are_what_the_code_had() -> None:
    assert api_job_kinds() == (Job.Kind.ENCODE, Job.Kind.TRAIN)
    assert {name: kind.queue for name, kind in JOB_KINDS.items() if kind.queue != "default"} == {
        Job.Kind.ENCODE: "gpu",
        Job.Kind.TRAIN: "gpu",
    }


@pytest.fixture
def toy_kind() -> Iterator[JobKind]:
    kind = job_kind_register(
        JobKind(TOY, f"{__name__}.toy_job_run", queue=GPU_QUEUE, api_startable=True)
    )
    try:
        yield kind
    finally:
        JOB_KINDS.pop(TOY)


@pytest.mark.django_db
def test_a_registered_toy_kind_is_enqueued_run_and_started_over_the_api(
    toy_kind: JobKind,
    tenant: Tenant,
    sent: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(tenant=tenant, kind=TOY, params={"say": "hello"})
    assert sent == [
        {
            "name": "recommender.tasks.run_job",
            "args": [tenant.pk, str(job.pk)],
            "queue": GPU_QUEUE,
            "countdown": None,
        }
    ]

    ran = job_run(tenant_id=tenant.pk, job_id=str(job.pk))

    assert ran is not None
    job.refresh_from_db()
    assert (job.kind, job.status, job.progress) == (TOY, Job.Status.SUCCEEDED, 1.0)
    assert job.counts == {"echo": "hello", "tenant": tenant.slug}
    assert job.attempts == 1

    assert TOY in api_job_kinds()
    from_api = job_start_from_api(tenant=tenant, payload={"kind": TOY})
    assert (from_api.job.kind, from_api.existing) == (TOY, False)


@pytest.mark.django_db
def test_an_unregistered_kind_is_refused_everywhere(tenant: Tenant) -> None:
    with pytest.raises(ApplicationError) as caught:
        job_create(tenant=tenant, kind=TOY)
    assert caught.value.code == "invalid_kind"
    with pytest.raises(ApplicationError) as caught:
        job_start_from_api(tenant=tenant, payload={"kind": TOY})
    assert caught.value.code == "validation_error"
    # A row of a kind no longer registered (its code removed) fails when a worker takes it.
    job = Job.objects.for_tenant(tenant).create(tenant=tenant, kind=TOY)
    job_run(tenant_id=tenant.pk, job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "No service runs jobs of kind 'toy'" in job.error
