"""Semantic search (the content space alone) and the parser of its request body."""

import uuid
from dataclasses import dataclass
from typing import Any

from recommender import candidate_store, vectorstore
from recommender.models import EndUser, Item
from recommender.models.vectors import EmbeddingSpace
from recommender.selectors import access_user_by_external_id
from recommender.services.config import active_config, active_config_version
from recommender.services.encoding.encoders import encoder_for, encoder_settings
from recommender.services.encoding.spaces import active_space
from recommender.services.serving.params import parse_count, parse_flag
from recommender.services.serving.profiles import UserProfile, user_profile
from recommender.services.serving.side_by_side import run_after
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

# The fields of the body (an unknown one is refused) and the query's limit; the OpenAPI
# serializer in recommender/api/schemas.py must match them.
SEARCH_FIELDS = frozenset({"query", "user", "count", "explain"})
QUERY_MAX_CHARS = 1000
# With a user, search re-ranks this many query neighbours per requested result.
PERSONAL_SEARCH_POOL = 4
PERSONAL_SEARCH_WEIGHT = 0.3


@dataclass(frozen=True)
class SearchRequest:
    query: str
    user_id: str | None
    count: int
    explain: bool


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


def _response(
    tenant: Tenant, space: EmbeddingSpace, results: list[Scored], user: EndUser | None
) -> dict:
    recommendation_id = uuid.uuid4().hex
    config_version = active_config_version(tenant)
    item_ids = [r.item_id for r in results]
    # The same writer as the other lists: after the response, on a pool thread.
    run_after(
        lambda: candidate_store.log_served_list(
            tenant_id=tenant.pk,
            recommendation_id=recommendation_id,
            endpoint="search",
            user_id=user.pk if user is not None else None,
            item_ids=item_ids,
            version_id=None,
            config_version=config_version.version if config_version else None,
        )
    )
    titles = dict(
        Item.objects.for_tenant(tenant).filter(pk__in=item_ids).values_list("pk", "external_id")
    )
    items = []
    for result in results:
        entry: dict[str, Any] = {"id": titles[result.item_id], "score": round(result.score, 6)}
        if result.explanation is not None:
            entry["explanation"] = result.explanation
        items.append(entry)
    return {
        "recommendation_id": recommendation_id,
        # Search is served by the content space alone, not by a trained model version.
        "model_version": None,
        "config_version": config_version.version if config_version else None,
        "content_space": space.pk,
        "experiment": None,  # A/B tests split recommendations only
        "items": items,
    }


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
        profile = user_profile(user_id=user.pk, space=space, config=config)
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
    return _response(tenant, space, results, user)


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


def _invalid(field_name: str | None, message: str, detail: str) -> ApplicationError:
    return ApplicationError(
        "validation_error", message, details=[{"field": field_name, "message": detail}]
    )


def parse_search_body(body: Any) -> SearchRequest:
    """`{"query": ..., "user"?: ..., "count"?: ..., "explain"?: ...}`; a fault is a 400 naming
    its field."""
    if not isinstance(body, dict):
        raise _invalid(
            None,
            'The body must be a JSON object, e.g. {"query": "running shoes"}.',
            "expected a JSON object",
        )
    unknown = sorted(set(body) - SEARCH_FIELDS)
    if unknown:
        raise _invalid(unknown[0], f"Unknown field '{unknown[0]}'.", "unknown field")
    user = body.get("user")
    if user is not None and (not isinstance(user, str) or not user):
        raise _invalid("user", "'user' must be a user id (a string).", "not a string")
    if user is not None and "\x00" in user:  # PostgreSQL text cannot hold NUL
        raise _invalid("user", "'user' contains a NUL character.", "contains a NUL character")
    return SearchRequest(
        query=parse_query(body.get("query")),
        user_id=user,
        count=parse_count(body.get("count")),
        explain=parse_flag(body.get("explain"), "explain"),
    )
