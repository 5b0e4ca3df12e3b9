"""API-side fixes of issue 13: jobs newest first, the explanation's real window, batch rows
numbered from 1 as in file imports."""

import datetime
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from recommender.engine.sources import SOURCE_SPECS
from recommender.engine.sources.registry import describe_days
from recommender.models import Job
from recommender.services.config import config_save
from tenants.models import Tenant
from tests.api.support import assert_error
from tests.factories import EndUserFactory, InteractionFactory, ItemFactory


def _jobs(tenant: Tenant, stamps: list[datetime.datetime]) -> list[str]:
    made = []
    for stamp in stamps:
        job = Job.objects.create(tenant=tenant, kind=Job.Kind.ENCODE)
        Job.objects.unscoped().filter(pk=job.pk).update(created_at=stamp)
        made.append(str(job.pk))
    return made


def _all_pages(api: APIClient, limit: int) -> list[str]:
    seen: list[str] = []
    url: str | None = f"/api/v1/jobs?limit={limit}"
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        seen += [row["id"] for row in response.json()["results"]]
        url = response.json()["next"]
    return seen


def test_jobs_are_listed_newest_first_across_pages(api: APIClient, tenant: Tenant) -> None:
    now = timezone.now()
    # Created out of order, two of them in the same instant: uuids order them at random.
    stamps = [now - datetime.timedelta(hours=h) for h in (3, 1, 5, 2)]
    ids = _jobs(tenant, [*stamps, stamps[1]])
    expected_times = sorted([*stamps, stamps[1]], reverse=True)

    listed = _all_pages(api, limit=2)

    assert sorted(listed) == sorted(ids)
    times = {str(j.pk): j.created_at for j in Job.objects.for_tenant(tenant)}
    assert [times[i] for i in listed] == expected_times
    # The same instant's jobs keep one order, page after page.
    assert _all_pages(api, limit=1) == listed == _all_pages(api, limit=3)


@pytest.mark.parametrize(
    ("days", "said"),
    [(7.0, "7 days"), (1.0, "day"), (0.5, "12 hours"), (30.0, "30 days"), (2.5, "2.5 days")],
)
def test_window_is_said_as_configured(days: float, said: str) -> None:
    assert describe_days(days) == said
    assert SOURCE_SPECS["trending"].phrase({"window_days": days}) == f"Trending in the last {said}"
    popular = SOURCE_SPECS["popular"].phrase({"half_life_days": days}, " in shoes")
    assert popular == f"Popular in shoes in the last {said}"


@pytest.mark.django_db
def test_popular_explanation_names_the_configured_window(api: APIClient, tenant: Tenant) -> None:
    item = ItemFactory(tenant=tenant, external_id="sku-1")
    InteractionFactory(tenant=tenant, user=EndUserFactory(tenant=tenant), item=item)
    config_save(tenant=tenant, data={"sources": {"popular": {"half_life_days": 3}}})

    body = api.get("/api/v1/popular?explain=true").json()

    assert [row["id"] for row in body["items"]] == ["sku-1"]
    assert body["items"][0]["explanation"]["text"] == "Popular in the last 3 days"


def test_batch_rows_are_numbered_from_one_as_in_file_imports(api: APIClient) -> None:
    body: dict[str, Any] = {"items": [{"id": "sku-1"}, {"id": ""}, {"id": "sku-3"}]}
    error = assert_error(api.post("/api/v1/items/batch", body, format="json"), 400)
    assert [(d["row"], d["field"]) for d in error["details"]] == [(2, "id")]
