"""GET /users/{id}/export: every table of the registry, the user's rows only."""

from rest_framework.test import APIClient

from recommender.models import EndUser
from recommender.services.privacy.export import SECTIONS
from recommender.services.privacy.user_data import USER_DATA
from tests.api.support import assert_error
from tests.privacy.conftest import People


def test_every_registered_model_has_an_export_section() -> None:
    assert {entry.model for entry in USER_DATA} - {EndUser} == set(SECTIONS)


def test_export_holds_everything_stored_about_the_user(api: APIClient, people: People) -> None:
    response = api.get(f"/api/v1/users/{people.gone.external_id}/export")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"user", *(name for name, _ in SECTIONS.values())}
    assert body["user"]["id"] == "gone"
    assert body["user"]["profile_text"] == "gone likes tea"
    assert [(e["event_id"], e["item_id"]) for e in body["interactions"]] == [
        ("gone-event", "item-1")
    ]
    assert [
        (s["recommendation_id"], s["item_ids"], s["model_version"]) for s in body["served_lists"]
    ] == [("rec-gone", ["item-1"], "v1")]
    # Summarised, not dumped: [1, 0, 0] has norm 1.
    assert [(v["dimension"], v["norm"]) for v in body["vectors"]] == [(3, 1.0)]
    assert "embedding" not in body["vectors"][0]
    assert [(t["source"], t["item_ids"], t["scores"]) for t in body["trained_lists"]] == [
        ("als", ["item-1"], [0.5])
    ]
    assert len(body["admin_changes"]) == 1
    # Nothing of the neighbour's.
    assert "stays" not in response.content.decode()


def test_export_of_an_unknown_user_is_404(api: APIClient, people: People) -> None:
    assert_error(api.get("/api/v1/users/nobody/export"), 404, "not_found")
