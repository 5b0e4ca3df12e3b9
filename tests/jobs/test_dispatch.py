"""The job outbox, the job sweep, one job per kind, and the takeover of a dead owner's job.

Service and API tests, in-process; messages are recorded instead of sent (the `sent` fixture),
except where a test says otherwise. The broker really away is `test_broker_outage.py`.
"""

import subprocess
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from recommender.models import Job, ModelVersion
from recommender.services.jobs import owner
from recommender.services.jobs.dispatch import jobs_owed
from recommender.services.jobs.lifecycle import job_create, job_run
from recommender.services.jobs.recovery import jobs_recover_stale, jobs_sweep
from tenants.models import Tenant

STALE_S = 60


def owed_job(tenant: Tenant, *, owed_s_ago: float, status: str = Job.Status.QUEUED) -> Job:
    """A job whose message was owed `owed_s_ago` seconds ago and never reached the broker."""
    return Job.objects.for_tenant(tenant).create(
        tenant=tenant,
        kind=Job.Kind.ENCODE,
        status=status,
        dispatch_due_at=timezone.now() - timedelta(seconds=owed_s_ago),
    )


# --- the outbox --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_job_owes_its_message_until_the_broker_takes_it(
    tenant: Tenant, sent: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_create(tenant=tenant, kind=Job.Kind.ENCODE, countdown=5)
    job.refresh_from_db()
    # Committed with the job: owed, due after the countdown, not sent yet.
    assert job.dispatch_due_at is not None
    assert job.dispatch_due_at > job.created_at + timedelta(seconds=4)
    assert job.dispatched_at is None
    assert sent == []

    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert [m["args"] for m in sent] == [[tenant.pk, str(job.pk)]]
    assert sent[0]["countdown"] == 5
    assert job.dispatch_due_at is None
    assert job.dispatched_at is not None


@pytest.mark.django_db
def test_the_sweep_sends_a_queued_job_whose_message_never_reached_the_broker(
    tenant: Tenant, other_tenant: Tenant, sent: list[dict[str, Any]]
) -> None:
    lost = owed_job(tenant, owed_s_ago=120)
    lost_elsewhere = owed_job(other_tenant, owed_s_ago=120)
    # Owed a moment ago: its send may still be in flight, so the sweep leaves it for now.
    in_flight = owed_job(tenant, owed_s_ago=1)
    # Not queued any more: its message is moot.
    started = owed_job(tenant, owed_s_ago=120, status=Job.Status.SUCCEEDED)

    swept = jobs_sweep()

    assert sorted(map(str, swept.dispatched)) == sorted([str(lost.pk), str(lost_elsewhere.pk)])
    assert sorted(m["args"][1] for m in sent) == sorted([str(lost.pk), str(lost_elsewhere.pk)])
    assert {m["queue"] for m in sent} == {"gpu"}
    for job in (lost, lost_elsewhere):
        job.refresh_from_db()
        assert (job.dispatch_due_at, job.status) == (None, Job.Status.QUEUED)
        assert job.dispatched_at is not None
    assert [job.pk for job in jobs_owed()] == []
    assert {job.pk for job in jobs_owed(grace_s=0)} == {in_flight.pk}
    started.refresh_from_db()
    assert started.dispatched_at is None


@pytest.mark.django_db
def test_a_job_taken_by_a_worker_owes_nothing(tenant: Tenant, sent: list[dict[str, Any]]) -> None:
    job = owed_job(tenant, owed_s_ago=120)

    job_run(tenant_id=tenant.pk, job_id=str(job.pk), services={Job.Kind.ENCODE: _done})

    job.refresh_from_db()
    assert (job.status, job.dispatch_due_at) == (Job.Status.SUCCEEDED, None)
    assert jobs_sweep().dispatched == []
    assert sent == []


def _done(*, job: Job, report: Any) -> dict[str, int]:
    return {"ok": 1}


# --- one job per kind ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_asking_for_a_job_of_a_kind_under_way_answers_that_job(
    api: APIClient, tenant: Tenant, sent: list[dict[str, Any]]
) -> None:
    first = api.post("/api/v1/jobs", {"kind": "encode"}, format="json")
    again = api.post("/api/v1/jobs", {"kind": "encode"}, format="json")
    train = api.post("/api/v1/jobs", {"kind": "train"}, format="json")

    assert (first.status_code, first.json()["existing"]) == (202, False)
    assert (again.status_code, again.json()["existing"]) == (200, True)
    assert again.json()["id"] == first.json()["id"]
    assert (train.status_code, train.json()["existing"]) == (202, False)
    assert Job.objects.for_tenant(tenant).filter(kind=Job.Kind.ENCODE).count() == 1

    # Running counts too; a finished job does not.
    Job.objects.for_tenant(tenant).filter(pk=first.json()["id"]).update(status="running")
    running = api.post("/api/v1/jobs", {"kind": "encode"}, format="json")
    assert (running.status_code, running.json()["id"]) == (200, first.json()["id"])
    Job.objects.for_tenant(tenant).filter(pk=first.json()["id"]).update(status="succeeded")
    fresh = api.post("/api/v1/jobs", {"kind": "encode"}, format="json")
    assert fresh.status_code == 202
    assert fresh.json()["id"] != first.json()["id"]


@pytest.mark.django_db
def test_the_api_answers_the_encode_job_that_ingestion_queued(
    api: APIClient, tenant: Tenant, sent: list[dict[str, Any]]
) -> None:
    stored = api.post("/api/v1/items/batch", {"items": [{"id": "sku-1"}]}, format="json")
    asked = api.post("/api/v1/jobs", {"kind": "encode"}, format="json")

    assert stored.status_code == 200
    debounced = Job.objects.for_tenant(tenant).get(kind=Job.Kind.ENCODE)
    assert (asked.status_code, asked.json()["id"]) == (200, str(debounced.pk))


# --- no version left in training ----------------------------------------------------------------


def _training_job(tenant: Tenant, *, seen_s_ago: float, owner_id: str = "") -> Job:
    seen = timezone.now() - timedelta(seconds=seen_s_ago)
    job = Job.objects.for_tenant(tenant).create(
        tenant=tenant,
        kind=Job.Kind.TRAIN,
        status=Job.Status.RUNNING,
        attempts=1,
        started_at=seen,
        heartbeat_at=seen,
        owner=owner_id,
    )
    ModelVersion.objects.for_tenant(tenant).create(tenant=tenant, number=1, job=job)
    return job


def _version_states(tenant: Tenant) -> list[tuple[int, str]]:
    return list(ModelVersion.objects.for_tenant(tenant).values_list("number", "status"))


@pytest.mark.django_db
def test_recovering_a_dead_training_fails_the_version_it_was_building(
    tenant: Tenant, sent: list[dict[str, Any]]
) -> None:
    job = _training_job(tenant, seen_s_ago=STALE_S + 30)
    unrelated = ModelVersion.objects.for_tenant(tenant).create(
        tenant=tenant, number=2, status=ModelVersion.Status.ACTIVE
    )

    assert jobs_recover_stale(stale_after_s=STALE_S).requeued == [job.pk]

    assert _version_states(tenant) == [(2, "active"), (1, "failed")]
    version = ModelVersion.objects.for_tenant(tenant).get(number=1)
    assert "worker stopped" in version.error
    unrelated.refresh_from_db()
    assert unrelated.status == ModelVersion.Status.ACTIVE


def _dead_owner() -> str:
    """The owner string of a process of this machine that has ended."""
    process = subprocess.Popen(["sleep", "30"])
    alive = owner.current_owner().rsplit("|", 2)[0]
    identity = f"{alive}|{process.pid}|{owner._start_ticks(process.pid)}"
    process.kill()
    process.wait()
    return identity


@pytest.mark.django_db
def test_a_redelivered_message_takes_over_at_once_when_the_owner_process_is_gone(
    tenant: Tenant,
) -> None:
    # Heartbeat fresh (the owner died a second ago), but the owner process is provably gone.
    job = _training_job(tenant, seen_s_ago=1, owner_id=_dead_owner())
    ran: list[int] = []

    def train(*, job: Job, report: Any) -> dict[str, int]:
        ran.append(job.attempts)
        return {"version": 2}

    job_run(tenant_id=tenant.pk, job_id=str(job.pk), services={Job.Kind.TRAIN: train})

    job.refresh_from_db()
    assert ran == [2]
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2)
    assert job.owner == owner.current_owner()
    assert _version_states(tenant) == [(1, "failed")]


@pytest.mark.django_db
def test_a_message_for_a_job_whose_owner_lives_is_dropped(tenant: Tenant) -> None:
    job = _training_job(tenant, seen_s_ago=1, owner_id=owner.current_owner())

    assert job_run(tenant_id=tenant.pk, job_id=str(job.pk), services={}) is None

    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.RUNNING, 1)
    assert _version_states(tenant) == [(1, "training")]


# --- owners -------------------------------------------------------------------------------------


def test_an_owner_is_gone_only_when_that_can_be_proved() -> None:
    me = owner.current_owner()
    machine, pid, started = me.rsplit("|", 2)

    assert me
    assert not owner.owner_is_gone(me)
    assert owner.owner_is_gone(_dead_owner())
    # A live PID with another start time is a later process given the PID: the owner is gone.
    assert owner.owner_is_gone(f"{machine}|{pid}|{int(started) + 1}")
    # Another machine or PID namespace, or no owner recorded: nothing can be told from here.
    assert not owner.owner_is_gone(f"elsewhere|{pid}|{started}")
    assert not owner.owner_is_gone("")
    assert not owner.owner_is_gone("garbage")
