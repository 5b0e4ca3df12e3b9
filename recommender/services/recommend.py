"""Content-based results: similar items, semantic search, recommendations for a user."""

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Count

from recommender import vectorstore
from recommender.engine.profiles import cosine_matrix
from recommender.models import Interaction, Item
from recommender.models.vectors import EmbeddingSpace
from recommender.selectors import access_item_by_external_id, access_user_by_external_id
from recommender.services.config import active_config
from recommender.services.encoders import encoder_for, encoder_settings
from recommender.services.profiles import UserProfile, user_profile
from recommender.services.spaces import active_space
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

MAX_COUNT = 100
QUERY_MAX_CHARS = 1000
# With a user, search re-ranks this many query neighbours per requested result.
PERSONAL_SEARCH_POOL = 4
PERSONAL_SEARCH_WEIGHT = 0.3
_VERBS = {
    "view": "viewed",
    "click": "clicked",
    "cart": "added to your cart",
    "purchase": "bought",
    "like": "liked",
    "rating": "rated",
}


@dataclass
class Scored:
    item_id: int
    score: float
    explanation: dict[str, Any] | None = None


def _space(tenant: Tenant) -> EmbeddingSpace:
    space = active_space(tenant.pk)
    if space is None:
        raise ApplicationError(
            "not_ready",
            "This tenant has no vectors yet: items are being encoded (or start an encode job).",
            http_status=409,
        )
    return space


def _response(tenant: Tenant, space: EmbeddingSpace | None, results: list[Scored]) -> dict:
    titles = dict(
        Item.objects.for_tenant(tenant)
        .filter(pk__in=[r.item_id for r in results])
        .values_list("pk", "external_id")
    )
    items = []
    for result in results:
        entry: dict[str, Any] = {"id": titles[result.item_id], "score": round(result.score, 6)}
        if result.explanation is not None:
            entry["explanation"] = result.explanation
        items.append(entry)
    return {
        "recommendation_id": uuid.uuid4().hex,
        "model_version": f"content:space-{space.pk}" if space else "popular",
        "items": items,
    }


def similar_items(*, tenant: Tenant, item_id: str, count: int, explain: bool) -> dict:
    item = access_item_by_external_id(item_id)
    space = _space(tenant)
    vectors = vectorstore.item_vectors(space, [item.pk])
    if item.pk not in vectors:
        raise ApplicationError(
            "not_ready", f"Item {item_id!r} is not encoded yet; try again shortly.", http_status=409
        )
    neighbours = vectorstore.nearest_items(
        space, vectors[item.pk], k=count, exclude_item_ids=[item.pk]
    )
    results = [
        Scored(
            n.item_id,
            n.similarity,
            {
                "sources": [{"source": "content", "share": 1.0}],
                "text": f"Similar in description to {item.title or item.external_id}",
            }
            if explain
            else None,
        )
        for n in neighbours
    ]
    return _response(tenant, space, results)


def search(*, tenant: Tenant, query: str, user_id: str | None, count: int, explain: bool) -> dict:
    user = access_user_by_external_id(user_id) if user_id else None
    space = _space(tenant)
    config = active_config(tenant)
    # The query must be encoded as the serving space's items were: while a space for new
    # settings builds, the configuration already names settings the active space lacks.
    encoder = encoder_for(encoder_settings({**config["encoder"], **space.settings}))
    query_vector = encoder.encode([query])[0]
    profile: UserProfile | None = None
    if user is not None:
        profile = user_profile(user=user, space=space, config=config)
    personal = profile is not None and profile.vector is not None
    pool = count * PERSONAL_SEARCH_POOL if personal else count
    neighbours = vectorstore.nearest_items(space, query_vector, k=pool)
    results = []
    if personal and neighbours and profile is not None and profile.vector is not None:
        item_vecs = vectorstore.item_vectors(space, [n.item_id for n in neighbours])
        for n in neighbours:
            taste = float(item_vecs[n.item_id] @ profile.vector)
            score = (1 - PERSONAL_SEARCH_WEIGHT) * n.similarity + PERSONAL_SEARCH_WEIGHT * taste
            results.append(
                Scored(
                    n.item_id,
                    score,
                    {
                        "sources": [
                            {"source": "query", "share": round(1 - PERSONAL_SEARCH_WEIGHT, 3)},
                            {"source": "profile", "share": PERSONAL_SEARCH_WEIGHT},
                        ],
                        "query_similarity": round(n.similarity, 6),
                        "profile_similarity": round(taste, 6),
                        "text": "Matches your search and what you usually like",
                    }
                    if explain
                    else None,
                )
            )
        results.sort(key=lambda r: r.score, reverse=True)
        results = results[:count]
    else:
        results = [
            Scored(
                n.item_id,
                n.similarity,
                {"sources": [{"source": "query", "share": 1.0}], "text": "Matches your search"}
                if explain
                else None,
            )
            for n in neighbours
        ]
    return _response(tenant, space, results)


def _popular(tenant: Tenant, count: int, exclude: set[int], explain: bool) -> list[Scored]:
    rows = (
        Interaction.objects.for_tenant(tenant)
        .filter(item__available=True)
        .exclude(item_id__in=exclude)
        .values("item_id")
        .annotate(n=Count("id"))
        .order_by("-n", "item_id")[:count]
    )
    top = max((row["n"] for row in rows), default=1)
    return [
        Scored(
            row["item_id"],
            row["n"] / top,
            {"sources": [{"source": "popular", "share": 1.0}], "text": "Popular right now"}
            if explain
            else None,
        )
        for row in rows
    ]


def recommend_for_user(*, tenant: Tenant, user_id: str, count: int, explain: bool) -> dict:
    """Items closest to the user's profile, never ones they interacted with or unavailable ones.

    A cold user (no events with vectors, no profile text) gets popular items instead.
    """
    user = access_user_by_external_id(user_id)
    space = active_space(tenant.pk)
    profile = None
    if space is not None:
        profile = user_profile(user=user, space=space, config=active_config(tenant))
    if space is None or profile is None or profile.vector is None:
        seen = (
            profile.seen_item_ids
            if profile
            else set(
                Interaction.objects.for_tenant(tenant)
                .filter(user=user)
                .values_list("item_id", flat=True)
            )
        )
        return _response(tenant, None, _popular(tenant, count, seen, explain))
    neighbours = vectorstore.nearest_items(
        space, profile.vector, k=count, exclude_item_ids=sorted(profile.seen_item_ids)
    )
    explanations: list[dict[str, Any] | None] = [None] * len(neighbours)
    if explain and neighbours:
        explanations = _explain_by_evidence(tenant, space, profile, [n.item_id for n in neighbours])
    return _response(
        tenant,
        space,
        [Scored(n.item_id, n.similarity, e) for n, e in zip(neighbours, explanations, strict=True)],
    )


def _explain_by_evidence(
    tenant: Tenant, space: EmbeddingSpace, profile: UserProfile, item_ids: list[int]
) -> list[dict[str, Any] | None]:
    """For each result, the interacted item it is closest to ("Because you bought X")."""
    if profile.evidence_vectors is None:
        return [
            {"sources": [{"source": "content", "share": 1.0}], "text": "Matches your profile"}
            for _ in item_ids
        ]
    result_vecs = vectorstore.item_vectors(space, item_ids)
    sims = cosine_matrix(np.stack([result_vecs[i] for i in item_ids]), profile.evidence_vectors)
    closest = sims.argmax(axis=1)
    evidence_ids = [profile.evidence[j][0] for j in closest]
    names = {
        pk: (external_id, title)
        for pk, external_id, title in Item.objects.for_tenant(tenant)
        .filter(pk__in=evidence_ids)
        .values_list("pk", "external_id", "title")
    }
    out: list[dict[str, Any] | None] = []
    for row, j in enumerate(closest):
        item_pk, kind, _ = profile.evidence[j]
        external_id, title = names[item_pk]
        verb = _VERBS.get(kind, "interacted with")
        out.append(
            {
                "sources": [{"source": "content", "share": 1.0}],
                "because_of": {
                    "id": external_id,
                    "type": kind,
                    "similarity": round(float(sims[row, j]), 6),
                },
                "text": f"Because you {verb} {title or external_id}",
            }
        )
    return out


def parse_count(raw: Any, default: int = 10) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        value = -1
    if isinstance(raw, float) and not raw.is_integer():
        value = -1  # int() would truncate 2.5 to 2 without a word
    if isinstance(raw, bool) or not 1 <= value <= MAX_COUNT:
        raise ApplicationError(
            "validation_error",
            f"'count' must be an integer from 1 to {MAX_COUNT}.",
            details=[{"field": "count", "message": "out of range"}],
        )
    return value


def parse_flag(raw: Any, name: str) -> bool:
    if raw is None or raw in ("", "false", "0", False):
        return False
    if raw in ("true", "1", True):
        return True
    raise ApplicationError(
        "validation_error",
        f"'{name}' must be true or false.",
        details=[{"field": name, "message": "not a boolean"}],
    )


def parse_query(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ApplicationError(
            "validation_error",
            "'query' must be a non-empty string.",
            details=[{"field": "query", "message": "required"}],
        )
    if len(raw) > QUERY_MAX_CHARS:
        raise ApplicationError(
            "validation_error",
            f"'query' is longer than {QUERY_MAX_CHARS} characters.",
            details=[{"field": "query", "message": "too long"}],
        )
    return raw.strip()
