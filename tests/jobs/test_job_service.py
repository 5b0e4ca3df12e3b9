"""The Job lifecycle wrapper, run in-process: success, failure, re-delivery, enqueue on commit."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from recommender.models import Item, Job
from recommender.services.jobs.lifecycle import MAX_ATTEMPTS, job_create, job_run
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant


def _items_job(tenant: Tenant, text: str, name: str = "items.csv") -> Job:
    return job_create(
        tenant=tenant, kind=Job.Kind.IMPORT_ITEMS, input_file=ContentFile(text, name=name)
    )


@pytest.mark.django_db
def test_a_job_runs_to_success_with_counts_and_timings(tenant: Tenant, media_root: Path) -> None:
    job = _items_job(tenant, "id,title\nsku-1,One\nsku-2,Two\n")
    assert job.status == Job.Status.QUEUED
    assert Path(job.input_file.path).is_relative_to(media_root)
    assert Path(job.input_file.path).read_text().startswith("id,title")

    job_run(tenant_id=tenant.pk, job_id=str(job.pk))

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.progress == 1.0
    assert job.counts == {"rows": 2, "created": 2, "updated": 0}
    assert job.attempts == 1
    assert job.started_at is not None
    assert job.finished_at is not None
    assert job.finished_at >= job.started_at
    assert Item.objects.for_tenant(tenant).count() == 2


@pytest.mark.django_db
def test_a_succeeded_job_is_not_run_again(tenant: Tenant) -> None:
    job = _items_job(tenant, "id\nsku-1\n")
    job_run(tenant_id=tenant.pk, job_id=str(job.pk))
    Item.objects.for_tenant(tenant).delete()

    again = job_run(tenant_id=tenant.pk, job_id=str(job.pk))

    job.refresh_from_db()
    assert again is None
    assert job.attempts == 1
    assert not Item.objects.for_tenant(tenant).exists()


@pytest.mark.django_db
def test_a_bad_file_fails_the_job_with_its_rows(tenant: Tenant) -> None:
    job = _items_job(tenant, "id,available\nsku-1,true\nsku-2,perhaps\n")

    job_run(tenant_id=tenant.pk, job_id=str(job.pk))

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "1 row is invalid" in job.error
    assert job.error_details == [
        {"row": 2, "line": 3, "field": "available", "message": "'available' must be true or false"}
    ]
    assert job.finished_at is not None
    assert not Item.objects.for_tenant(tenant).exists()


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_job_without_leaking_its_message(tenant: Tenant) -> None:
    def broken(*, job: Job, report: Callable[..., Any]) -> dict[str, int]:
        report(0.25, {"rows": 10})
        raise RuntimeError("password=hunter2 in some internal message")

    job = _items_job(tenant, "id\nsku-1\n")
    job_run(tenant_id=tenant.pk, job_id=str(job.pk), services={Job.Kind.IMPORT_ITEMS: broken})

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "RuntimeError" in job.error
    assert "hunter2" not in job.error
    assert (job.progress, job.counts) == (0.25, {"rows": 10})


@pytest.mark.django_db
def test_a_job_whose_worker_keeps_dying_is_failed_not_rerun(tenant: Tenant) -> None:
    job = _items_job(tenant, "id\nsku-1\n")
    # Its last worker died an hour ago: the heartbeat is stale (a fresh one means a live owner).
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Job.objects.for_tenant(tenant).filter(pk=job.pk).update(
        status=Job.Status.RUNNING,
        attempts=MAX_ATTEMPTS,
        started_at=an_hour_ago,
        heartbeat_at=an_hour_ago,
    )

    job_run(tenant_id=tenant.pk, job_id=str(job.pk))

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Gave up" in job.error
    assert not Item.objects.for_tenant(tenant).exists()


@pytest.mark.django_db
def test_a_job_runs_only_for_its_own_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    job = _items_job(tenant, "id\nsku-1\n")

    assert job_run(tenant_id=other_tenant.pk, job_id=str(job.pk)) is None

    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.QUEUED, 0)


@pytest.mark.django_db
def test_the_job_is_enqueued_on_commit(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _items_job(tenant, "id\nsku-1\n")
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_an_unknown_kind_is_refused(tenant: Tenant) -> None:
    with pytest.raises(ApplicationError) as caught:
        job_create(tenant=tenant, kind="defragment")
    assert caught.value.code == "invalid_kind"
    assert not Job.objects.for_tenant(tenant).exists()
