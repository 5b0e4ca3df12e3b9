"""Recovering jobs whose worker died, and the guard that keeps a job from running twice at once.

Service tests, in-process: a "dead worker" is a RUNNING job whose heartbeat is old, a "live" one
has a fresh heartbeat. Messages are recorded instead of sent.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from recommender.models import Job
from recommender.services.encoding.queue import encoding_sweep
from recommender.services.jobs.lifecycle import MAX_ATTEMPTS, job_run, jobs_running_stale
from recommender.services.jobs.recovery import jobs_recover_stale
from tenants.models import Tenant

STALE_S = 60


def make_job(
    tenant: Tenant,
    *,
    status: str = Job.Status.RUNNING,
    seen_s_ago: float | None = None,
    attempts: int = 1,
    kind: str = Job.Kind.ENCODE,
) -> Job:
    """A job as its worker left it: heartbeat `seen_s_ago` seconds ago (None: never started)."""
    seen = None if seen_s_ago is None else timezone.now() - timedelta(seconds=seen_s_ago)
    return Job.objects.for_tenant(tenant).create(
        tenant=tenant,
        kind=kind,
        status=status,
        attempts=attempts,
        started_at=seen,
        heartbeat_at=seen,
    )


def state(job: Job) -> tuple[str, int]:
    job.refresh_from_db()
    return job.status, job.attempts


class Recorder:
    """A job service that records the jobs it ran; `during` runs inside, to play a takeover."""

    def __init__(self, during: Callable[[Job, Any], None] | None = None) -> None:
        self.ran: list[tuple[Any, int]] = []
        self.during = during

    def __call__(self, *, job: Job, report: Any) -> dict[str, int]:
        self.ran.append((job.pk, job.attempts))
        if self.during is not None:
            self.during(job, report)
        return {"items_encoded": 1}


def run(job: Job, service: Recorder) -> Job | None:
    return job_run(tenant_id=job.tenant_id, job_id=str(job.pk), services={Job.Kind.ENCODE: service})


# --- recovery ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_stale_running_job_is_requeued_on_its_queue(
    tenant: Tenant, sent: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    job = make_job(tenant, seen_s_ago=STALE_S + 30)

    with django_capture_on_commit_callbacks(execute=True):
        recovery = jobs_recover_stale(stale_after_s=STALE_S)

    assert recovery.requeued == [job.pk]
    assert recovery.failed == []
    # QUEUED again, and the attempt it lost still counts.
    assert state(job) == (Job.Status.QUEUED, 1)
    assert sent == [
        {
            "name": "recommender.tasks.run_job",
            "args": [tenant.pk, str(job.pk)],
            "queue": "gpu",
            "countdown": None,
        }
    ]


@pytest.mark.django_db
def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(
    tenant: Tenant, sent: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    job = make_job(tenant, seen_s_ago=STALE_S - 30)

    with django_capture_on_commit_callbacks(execute=True):
        recovery = jobs_recover_stale(stale_after_s=STALE_S)

    assert (recovery.requeued, recovery.failed) == ([], [])
    assert state(job) == (Job.Status.RUNNING, 1)
    assert sent == []


@pytest.mark.django_db
def test_the_threshold_defaults_to_the_setting(
    tenant: Tenant, settings: Any, sent: list[dict[str, Any]]
) -> None:
    settings.RECSYS_JOB_STALE_S = 600
    job = make_job(tenant, seen_s_ago=300)
    assert jobs_recover_stale().requeued == []
    settings.RECSYS_JOB_STALE_S = 120
    assert jobs_recover_stale().requeued == [job.pk]


@pytest.mark.django_db
def test_a_job_that_lost_its_worker_max_attempts_times_is_failed(
    tenant: Tenant, sent: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    poison = make_job(tenant, seen_s_ago=STALE_S + 30, attempts=MAX_ATTEMPTS)
    retried = make_job(tenant, seen_s_ago=STALE_S + 30, attempts=MAX_ATTEMPTS - 1)

    with django_capture_on_commit_callbacks(execute=True):
        recovery = jobs_recover_stale(stale_after_s=STALE_S)

    assert recovery.failed == [poison.pk]
    assert recovery.requeued == [retried.pk]
    assert state(poison) == (Job.Status.FAILED, MAX_ATTEMPTS)
    assert f"Gave up after {MAX_ATTEMPTS} attempts" in poison.error
    assert poison.finished_at is not None
    assert state(retried) == (Job.Status.QUEUED, MAX_ATTEMPTS - 1)
    assert [message["args"][1] for message in sent] == [str(retried.pk)]


@pytest.mark.django_db
def test_recovery_spans_tenants_but_judges_each_job_by_its_own_heartbeat(
    tenant: Tenant, other_tenant: Tenant, sent: list[dict[str, Any]]
) -> None:
    stale_here = make_job(tenant, seen_s_ago=STALE_S + 30)
    live_here = make_job(tenant, seen_s_ago=1)
    stale_there = make_job(other_tenant, seen_s_ago=STALE_S + 30, kind=Job.Kind.IMPORT_ITEMS)
    live_there = make_job(other_tenant, seen_s_ago=1)
    # Only RUNNING jobs are recovered, however old their last heartbeat.
    queued = make_job(other_tenant, status=Job.Status.QUEUED, seen_s_ago=STALE_S + 30)
    finished = make_job(tenant, status=Job.Status.SUCCEEDED, seen_s_ago=STALE_S + 30)

    recovery = jobs_recover_stale(stale_after_s=STALE_S)

    assert sorted(map(str, recovery.requeued)) == sorted([str(stale_here.pk), str(stale_there.pk)])
    assert state(stale_here) == (Job.Status.QUEUED, 1)
    assert state(stale_there) == (Job.Status.QUEUED, 1)
    assert state(live_here) == (Job.Status.RUNNING, 1)
    assert state(live_there) == (Job.Status.RUNNING, 1)
    assert state(queued) == (Job.Status.QUEUED, 1)
    assert state(finished) == (Job.Status.SUCCEEDED, 1)


@pytest.mark.django_db
def test_a_running_job_started_before_heartbeats_is_judged_by_its_start(tenant: Tenant) -> None:
    old = make_job(tenant, seen_s_ago=STALE_S + 30)
    recent = make_job(tenant, seen_s_ago=1)
    Job.objects.for_tenant(tenant).update(heartbeat_at=None)

    assert list(jobs_running_stale(STALE_S).values_list("pk", flat=True)) == [old.pk]
    assert recent.pk not in set(jobs_running_stale(STALE_S).values_list("pk", flat=True))


@pytest.mark.django_db
def test_the_periodic_sweep_recovers_before_it_looks_for_encoding_work(
    tenant: Tenant,
    settings: Any,
    sent: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.RECSYS_JOB_STALE_S = STALE_S
    job = make_job(tenant, seen_s_ago=STALE_S + 30)

    with django_capture_on_commit_callbacks(execute=True):
        queued_tenants = encoding_sweep()

    # The recovered job is the tenant's encode job: no second one is queued beside it.
    assert queued_tenants == []
    assert state(job) == (Job.Status.QUEUED, 1)
    assert [message["args"][1] for message in sent] == [str(job.pk)]


# --- the double-execution guard ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_duplicate_message_for_a_job_running_elsewhere_is_dropped(tenant: Tenant) -> None:
    job = make_job(tenant, seen_s_ago=1)
    service = Recorder()

    assert run(job, service) is None

    assert service.ran == []
    assert state(job) == (Job.Status.RUNNING, 1)


@pytest.mark.django_db
def test_a_requeued_job_runs_once_and_the_original_message_then_finds_it_finished(
    tenant: Tenant, sent: list[dict[str, Any]]
) -> None:
    job = make_job(tenant, seen_s_ago=STALE_S + 30)
    jobs_recover_stale(stale_after_s=STALE_S)
    service = Recorder()

    ran = run(job, service)  # the re-queue's message
    late = run(job, service)  # the dead worker's message, re-delivered after the visibility timeout

    assert ran is not None
    assert late is None
    assert service.ran == [(job.pk, 2)]
    assert state(job) == (Job.Status.SUCCEEDED, 2)
    assert job.counts == {"items_encoded": 1}


@pytest.mark.django_db
def test_a_redelivered_message_takes_over_a_job_whose_worker_is_gone(
    tenant: Tenant, settings: Any
) -> None:
    settings.RECSYS_JOB_STALE_S = STALE_S
    job = make_job(tenant, seen_s_ago=STALE_S + 30)
    service = Recorder()

    run(job, service)

    assert service.ran == [(job.pk, 2)]
    assert state(job) == (Job.Status.SUCCEEDED, 2)


@pytest.mark.django_db
def test_a_runner_that_lost_its_job_stops_and_records_nothing(tenant: Tenant) -> None:
    job = make_job(tenant, status=Job.Status.QUEUED, attempts=0)

    def taken_over(running: Job, report: Any) -> None:
        # This runner stalled past the threshold; the sweep re-queued the job and another worker
        # started attempt 2. This runner's next report finds the job no longer its own.
        Job.objects.for_tenant(tenant).filter(pk=running.pk).update(
            attempts=2, counts={"by": "attempt 2"}
        )
        report(0.5, {"items_encoded": 99})
        pytest.fail("report should have raised")

    run(job, Recorder(during=taken_over))

    assert state(job) == (Job.Status.RUNNING, 2)
    assert job.counts == {"by": "attempt 2"}
    assert job.finished_at is None


@pytest.mark.django_db
def test_a_report_beats_the_heartbeat(tenant: Tenant) -> None:
    job = make_job(tenant, status=Job.Status.QUEUED, attempts=0)
    beats: list[Any] = []

    def reporting(running: Job, report: Any) -> None:
        beats.append(Job.objects.for_tenant(tenant).get(pk=running.pk).heartbeat_at)
        time.sleep(0.01)
        report(0.5, {"items_encoded": 1})
        beats.append(Job.objects.for_tenant(tenant).get(pk=running.pk).heartbeat_at)

    run(job, Recorder(during=reporting))

    assert beats[0] is not None
    assert beats[1] > beats[0]


@pytest.mark.django_db(transaction=True)
def test_a_worker_beats_while_its_service_reports_nothing(tenant: Tenant, settings: Any) -> None:
    # A quarter of the threshold between beats: 0.25 s here.
    settings.RECSYS_JOB_STALE_S = 1
    job = make_job(tenant, status=Job.Status.QUEUED, attempts=0)
    seen: list[tuple[Any, bool]] = []

    def silent(running: Job, report: Any) -> None:
        for _ in range(3):
            time.sleep(0.6)
            row = Job.objects.for_tenant(tenant).get(pk=running.pk)
            stale = jobs_running_stale(stale_after_s=1).filter(pk=running.pk).exists()
            seen.append((row.heartbeat_at, stale))

    run(job, Recorder(during=silent))

    beats = [beat for beat, _ in seen]
    assert beats == sorted(set(beats))  # a new heartbeat at every look
    assert not any(stale for _, stale in seen)
    assert state(job) == (Job.Status.SUCCEEDED, 1)
