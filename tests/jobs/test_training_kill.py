"""Fault: the process training a tenant's model is SIGKILLed mid-training (a prefork child, as
under up.sh's worker, killed by the OOM killer or an operator).

Celery re-delivers the message at once (`task_reject_on_worker_lost`); the heartbeat is still
fresh, but the job's recorded owner process is gone, so the new child takes the job over without
waiting for the stale threshold. The version the killed attempt was building is failed, the new
attempt trains a new one, and no version is left in `training`.
"""

import os
import signal
import time
from collections.abc import Callable

import pytest

from recommender.models import Job, ModelVersion
from recommender.services.jobs.lifecycle import job_create
from tenants.models import Tenant
from tests.jobs.processes import StartCelery
from tests.serving.conftest import configure, load_planted

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A bound on the wait, not a timing target: the job must be done well within it.
TIMEOUT_S = 120


def _wait_for(what: str, condition: Callable[[], bool], poll_s: float = 0.2) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(poll_s)


def _versions(tenant: Tenant) -> list[tuple[int, str]]:
    return list(
        ModelVersion.objects.for_tenant(tenant).order_by("number").values_list("number", "status")
    )


def test_a_training_killed_midway_is_taken_over_at_once_and_leaves_no_version_training(
    tenant: Tenant, start_celery: StartCelery
) -> None:
    load_planted(tenant, n_users=200, n_items=150, n_groups=4)
    # Training made small (as tests/serving's planted tenant), with ALS work enough that the
    # kill lands inside training, after its version row is created.
    configure(
        tenant,
        sources={"als": {"factors": 32, "iterations": 100}},
        fusion={"ranker": "off"},
        training={"promote": "always", "eval_users": 200, "tuning_budget_s": 0},
    )
    # The default stale threshold (60 s): the takeover must not wait for it.
    start_celery("worker", ["worker", "-Q", "default,gpu", "--pool=prefork", "--concurrency=1"])
    job = job_create(tenant=tenant, kind=Job.Kind.TRAIN)

    def training() -> bool:
        job.refresh_from_db()
        return job.status == Job.Status.RUNNING and _versions(tenant) == [(1, "training")]

    _wait_for("the first attempt is training version 1", training, poll_s=0.02)
    pid = int(job.owner.rsplit("|", 2)[1])
    os.kill(pid, signal.SIGKILL)

    def finished() -> bool:
        job.refresh_from_db()
        return job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED)

    _wait_for("the job has finished", finished)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.attempts == 2
    assert int(job.owner.rsplit("|", 2)[1]) != pid
    assert job.counts["version"] == 2
    # Version 1 (the killed attempt's) failed, version 2 trained; none stays in training.
    assert _versions(tenant) == [(1, "failed"), (2, "active")]
    failed = ModelVersion.objects.for_tenant(tenant).get(number=1)
    assert "worker stopped" in failed.error
