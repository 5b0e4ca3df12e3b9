"""End to end: a real worker trains from an API request, and serving switches versions."""

import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from recommender.models import EmbeddingSpace, ItemNeighbours, Job, ModelVersion
from tenants.models import Tenant
from tests.serving.conftest import configure, load_planted

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT_S = 120


def _train(api: APIClient) -> dict[str, Any]:
    response = api.post("/api/v1/jobs", {"kind": "train"}, format="json")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        body: dict[str, Any] = api.get(f"/api/v1/jobs/{job_id}").json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    pytest.fail(f"train job {job_id} did not finish in {TIMEOUT_S} s")


def test_a_worker_trains_and_serving_switches_to_the_new_version(
    celery_worker: Any, tenant: Tenant, api: APIClient
) -> None:
    planted = load_planted(tenant, n_users=120, n_items=160, n_groups=4)
    # The point here is the switch, not the promotion rule (tests/serving/test_promotion.py).
    configure(
        tenant, sources={"als": {"factors": 8, "iterations": 4}}, training={"promote": "always"}
    )
    user = next(iter(planted.user_group))

    first = _train(api)
    assert first["status"] == "succeeded", first
    assert first["kind"] == "train"
    assert first["progress"] == 1.0
    assert first["counts"]["version"] == 1
    body = api.get(f"/api/v1/users/{user}/recommendations").json()
    assert body["model_version"] == "v1"

    second = _train(api)
    assert second["status"] == "succeeded", second
    body = api.get(f"/api/v1/users/{user}/recommendations").json()
    assert body["model_version"] == "v2"
    assert len(body["items"]) == 10

    v1, v2 = ModelVersion.objects.for_tenant(tenant).order_by("number")
    assert (v1.status, v2.status) == (ModelVersion.Status.RETIRED, ModelVersion.Status.ACTIVE)
    assert v2.job_id is not None
    assert str(v2.job_id) == second["id"]
    # The retired version keeps its artifacts for a rollback; only v2's factors serve.
    assert ItemNeighbours.objects.filter(version=v1).exists()
    assert ItemNeighbours.objects.filter(version=v2).exists()
    cf_spaces = EmbeddingSpace.objects.for_tenant(tenant).filter(purpose="collaborative")
    assert list(cf_spaces.filter(status="active").values_list("pk", flat=True)) == [v2.cf_space_id]
    models = api.get("/api/v1/models").json()["results"]
    assert [(m["version"], m["status"]) for m in models] == [("v2", "active"), ("v1", "retired")]
    assert Job.objects.for_tenant(tenant).filter(kind="train", status="succeeded").count() == 2
