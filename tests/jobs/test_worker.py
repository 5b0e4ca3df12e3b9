"""End to end: an uploaded file is imported by a real Celery worker over the real broker."""

import time
from typing import Any

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from recommender.models import Interaction, Item, Job
from recommender.services.jobs.lifecycle import job_create
from tenants.models import Tenant
from tests.jobs.files import interactions_csv

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT_S = 60


def _wait_until_finished(job: Job) -> list[float]:
    """Poll the job's row until it finishes; return the progress values seen on the way."""
    seen: list[float] = []
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.append(job.progress)
        if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            return seen
        time.sleep(0.05)
    pytest.fail(f"job {job.pk} still {job.status} after {TIMEOUT_S} s")


def test_a_worker_imports_uploaded_files_and_the_api_shows_the_jobs(
    celery_worker: Any, tenant: Tenant, api: APIClient, other_api: APIClient
) -> None:
    items = job_create(
        tenant=tenant,
        kind=Job.Kind.IMPORT_ITEMS,
        input_file=ContentFile(
            "".join(f'{{"id": "sku-{n}", "title": "Item {n}"}}\n' for n in range(10)),
            name="items.jsonl",
        ),
    )
    _wait_until_finished(items)
    assert items.status == Job.Status.SUCCEEDED, items.error
    assert items.counts == {"rows": 10, "created": 10, "updated": 0}
    assert Item.objects.for_tenant(tenant).count() == 10

    events = job_create(
        tenant=tenant,
        kind=Job.Kind.IMPORT_INTERACTIONS,
        params={"chunk_rows": 500},
        input_file=ContentFile(interactions_csv(20_000), name="events.csv"),
    )
    seen = _wait_until_finished(events)

    assert events.status == Job.Status.SUCCEEDED, events.error
    assert events.progress == 1.0
    assert seen == sorted(seen)  # progress never goes back
    assert events.counts == {"rows": 20_000, "stored": 20_000, "duplicates": 0, "users_created": 50}
    assert events.attempts == 1
    assert Interaction.objects.for_tenant(tenant).count() == 20_000

    response = api.get(f"/api/v1/jobs/{events.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["progress"], body["kind"]) == (
        "succeeded",
        1.0,
        "import_interactions",
    )
    assert body["counts"]["stored"] == 20_000
    assert body["finished_at"] is not None

    foreign = other_api.get(f"/api/v1/jobs/{events.pk}")
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"


def test_a_worker_fails_a_bad_file_and_stores_nothing(celery_worker: Any, tenant: Tenant) -> None:
    job = job_create(
        tenant=tenant,
        kind=Job.Kind.IMPORT_INTERACTIONS,
        input_file=ContentFile("user,item,type\nu-1,sku-missing,view\n", name="events.csv"),
    )
    _wait_until_finished(job)

    assert job.status == Job.Status.FAILED
    assert job.error_details[0]["message"] == "unknown item 'sku-missing'"
    assert not Interaction.objects.for_tenant(tenant).exists()
