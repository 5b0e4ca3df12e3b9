"""A job whose service fails on a transient database error (here a real lock timeout) is run
again instead of failed; other errors, and a run that keeps timing out, still fail it."""

from typing import Any

import pytest
from django.db import connection, connections, transaction

from recommender.models import Job
from recommender.services.jobs import retry
from recommender.services.jobs.lifecycle import job_run
from tenants.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_BASE_S", 0.001)


@pytest.fixture
def locked_tenant_row(tenant: Tenant) -> Any:
    """Another session holding the tenant's row lock, as a concurrent writer would (NO KEY:
    inserting the job, which references the tenant, must not wait for it)."""
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT 1 FROM tenants_tenant WHERE id = %s FOR NO KEY UPDATE", [tenant.pk])
    yield other
    with other.cursor() as cursor:
        cursor.execute("ROLLBACK")
    other.close()


def _lock_the_row(tenant: Tenant) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '50ms'")
        cursor.execute("SELECT 1 FROM tenants_tenant WHERE id = %s FOR NO KEY UPDATE", [tenant.pk])


def _job(tenant: Tenant) -> Job:
    return Job.objects.for_tenant(tenant).create(tenant=tenant, kind=Job.Kind.TRAIN)


def test_a_lock_timeout_is_retried_and_the_job_succeeds(
    tenant: Tenant, locked_tenant_row: Any
) -> None:
    calls: list[int] = []

    def service(*, job: Job, report: Any) -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            _lock_the_row(tenant)  # times out: the other session holds the row
        if len(calls) == 2:
            with locked_tenant_row.cursor() as cursor:
                cursor.execute("ROLLBACK")  # the other writer is done
                cursor.execute("BEGIN")
            _lock_the_row(tenant)
        return {"calls": len(calls)}

    job = _job(tenant)
    job_run(tenant_id=tenant.pk, job_id=str(job.pk), services={Job.Kind.TRAIN: service})
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.counts == {"calls": 2}


def test_a_job_that_keeps_timing_out_fails_after_bounded_retries(
    tenant: Tenant, locked_tenant_row: Any
) -> None:
    calls: list[int] = []

    def service(*, job: Job, report: Any) -> dict[str, int]:
        calls.append(1)
        _lock_the_row(tenant)
        return {}

    job = _job(tenant)
    job_run(tenant_id=tenant.pk, job_id=str(job.pk), services={Job.Kind.TRAIN: service})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "OperationalError" in job.error
    assert len(calls) == 1 + retry.TRANSIENT_RETRIES


def test_other_errors_are_not_retried(tenant: Tenant) -> None:
    calls: list[int] = []

    def service(*, job: Job, report: Any) -> dict[str, int]:
        calls.append(1)
        raise ValueError("a bug, not contention")

    job = _job(tenant)
    job_run(tenant_id=tenant.pk, job_id=str(job.pk), services={Job.Kind.TRAIN: service})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert calls == [1]
