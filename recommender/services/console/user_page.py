"""The console's end-user page: the user's recent events with item titles, and the list the API
would serve them now, with titles and explanations (nothing logged)."""

from typing import Any

from recommender.models import EndUser
from recommender.services.console.titles import list_titled
from recommender.services.serving import lists
from recommender.stores import user_reads
from recsys_platform.errors import ApplicationError

RECENT_EVENTS = 20
RECOMMEND_PARAMS = [("count", "10"), ("explain", "true")]


def user_page(*, user: EndUser) -> dict[str, Any]:
    """Runs inside the user's tenant scope. Under a running A/B test the list is the user's
    variant's, as the API would serve it."""
    events = user_reads.recent_interactions(user_id=user.pk, limit=RECENT_EVENTS)
    try:
        served = lists.recommend_for_user(
            tenant=user.tenant, user_id=user.external_id, params=RECOMMEND_PARAMS, log=False
        )
    except ApplicationError as exc:
        recommendations: dict[str, Any] = {"error": exc.message, "items": []}
    else:
        recommendations = list_titled(user.tenant, served)
    return {"events": events, "recommendations": recommendations}
