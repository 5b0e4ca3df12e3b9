"""The console's item page: the item's recent events, its vectors in each embedding space, and
the items the API's similar-items endpoint would serve for it (nothing logged)."""

from typing import Any

from recommender import vectorstore
from recommender.models import EmbeddingSpace, Interaction, Item, Job
from recommender.services.console.titles import list_titled
from recommender.services.serving import lists
from recsys_platform.errors import ApplicationError

RECENT_EVENTS = 20
SIMILAR_PARAMS = [("count", "10"), ("explain", "true")]
ENCODING_SPACES = (EmbeddingSpace.Status.ACTIVE, EmbeddingSpace.Status.BUILDING)


def item_events(item: Item) -> list[dict[str, Any]]:
    rows = (
        Interaction.objects.for_tenant(item.tenant)
        .filter(item=item)
        .order_by("-timestamp")
        .values_list("user__external_id", "type", "value", "timestamp")[:RECENT_EVENTS]
    )
    return [
        {"user": user, "type": kind, "value": value, "timestamp": moment}
        for user, kind, value, moment in rows
    ]


def item_vector_state(item: Item) -> dict[str, Any]:
    """Each space of the tenant with the item's vector state in it; whether the serving content
    space covers the item; whether encoding is still due for it (a content space that serves or
    is being built lacks its current text) and whether an encode job is queued or running."""
    spaces = [
        {"space": space, "state": vectorstore.item_vector_state(space, item.pk)}
        for space in EmbeddingSpace.objects.for_tenant(item.tenant).order_by("-created_at")
    ]
    content = [s for s in spaces if s["space"].purpose == EmbeddingSpace.Purpose.CONTENT]
    active = next((s for s in content if s["space"].status == EmbeddingSpace.Status.ACTIVE), None)
    encoding = Job.objects.for_tenant(item.tenant).filter(
        kind=Job.Kind.ENCODE, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    )
    return {
        "spaces": spaces,
        "active_space": active["space"] if active else None,
        "active_covers": active is not None and active["state"] == "current",
        # No content space yet: the tenant's first encoding is still to come.
        "encode_pending": not content
        or any(s["state"] != "current" for s in content if s["space"].status in ENCODING_SPACES),
        "encode_job": encoding.order_by("-created_at").first(),
    }


def item_similar(item: Item) -> dict[str, Any]:
    """The similar-items list with titles, or the reason there is none ("error")."""
    try:
        served = lists.similar_items(
            tenant=item.tenant, item_id=item.external_id, params=SIMILAR_PARAMS, log=False
        )
    except ApplicationError as exc:
        return {"error": exc.message, "items": []}
    return list_titled(item.tenant, served)


def item_page(*, item: Item) -> dict[str, Any]:
    """Runs inside the item's tenant scope (the serving service looks the item up in it)."""
    return {
        "events": item_events(item),
        "vectors": item_vector_state(item),
        "similar": item_similar(item),
    }
