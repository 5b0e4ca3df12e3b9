"""Serving a list: candidates from each source → fusion → boosts → per-category cap → MMR →
explanations → the served list logged under its recommendation_id.

Used by /users/{id}/recommendations, /items/{id}/similar, /popular and /trending.
"""

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender import candidate_store, vectorstore
from recommender.engine.diversity import cap_per_category, mmr
from recommender.engine.exploration import fresh_slots, reserve_fresh
from recommender.engine.fusion import Fused, fuse
from recommender.engine.sources import enabled_sources
from recommender.engine.sources.registry import similar_item_sources
from recommender.selectors import access_item_by_external_id, items_named
from recommender.services.encoding.spaces import active_space
from recommender.services.serving import explanations
from recommender.services.serving.candidates import (
    Candidates,
    item_candidates,
    user_candidates,
)
from recommender.services.serving.history import History, empty_history, user_history
from recommender.services.serving.params import parse_context_items, parse_count, parse_flag
from recommender.services.serving.ranking import (
    LoadedRanker,
    fresh_share,
    rerank,
    user_weights,
    version_ranker,
)
from recommender.services.serving.rules import Rules, parse_rules
from recommender.services.serving.session import context_seeds, session_candidates
from recommender.services.serving.side_by_side import run_after
from recommender.services.serving.source_reads import ranking_candidates
from recommender.services.serving.state import Serving, serving_for, serving_for_user
from recommender.services.serving.variants import Variant
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

# Each source proposes this many items per requested one (rules and diversity need room).
POOL_PER_ITEM = 4
MIN_POOL = 40
MAX_POOL = 400
# Cold users: the first of these that yields items serves them.
COLD_USER_CHAIN = ("content", "trending", "popular")


def _pool(count: int) -> int:
    return min(MAX_POOL, max(MIN_POOL, POOL_PER_ITEM * count))


@dataclass
class Ranked:
    item: int
    score: float
    fused: Fused

    @property
    def shares(self) -> dict[str, float]:
        # Computed for the served items only: a pool holds hundreds of candidates.
        return self.fused.shares()


def _boosted(fused: list[Fused], rules: Rules, items: Mapping[int, Any]) -> list[Ranked]:
    ranked = []
    for entry in fused:
        item = items.get(entry.item)
        if item is None:
            continue
        factor = 1.0
        if rules.boosts:
            factor = math.prod(
                boost.factor
                for boost in rules.boosts
                if boost.when.matches(item.categories, item.attributes)
            )
        ranked.append(Ranked(entry.item, entry.score * factor, entry))
    ranked.sort(key=lambda r: (-r.score, r.item))
    return ranked


def _diversify(
    serving: Serving, ranked: list[Ranked], rules: Rules, items: Mapping[int, Any], count: int
) -> list[Ranked]:
    if rules.max_per_category > 0:
        kept = set(
            cap_per_category(
                [r.item for r in ranked],
                {item_id: items[item_id].categories for item_id in items},
                rules.max_per_category,
                len(ranked),
            )
        )
        ranked = [r for r in ranked if r.item in kept]
    if rules.mmr_lambda < 1.0 and serving.content_space is not None and len(ranked) > 1:
        ids = [r.item for r in ranked]
        stored = vectorstore.item_vectors(serving.content_space, ids)
        dimension = serving.content_space.dimension
        vectors = np.stack([stored.get(i, np.zeros(dimension, np.float32)) for i in ids])
        order = mmr(ids, [r.score for r in ranked], vectors, rules.mmr_lambda, count)
        by_id = {r.item: r for r in ranked}
        ranked = [by_id[int(i)] for i in order]
    return ranked[:count]


# Without boosts, caps or diversity the list is the fused order among servable items: reading
# the first few times `count` candidates usually suffices (more windows follow when it does not).
HYDRATE_WINDOW_PER_ITEM = 3


def _servable(
    serving: Serving, fused: list[Fused], rules: Rules, count: int, exclude: Sequence[int]
) -> dict[int, Any]:
    """The servable items among the fused candidates: all of them when a rule may reorder the
    list, else window by window from the top until `count` are found."""
    reorders = bool(rules.boosts) or rules.max_per_category > 0 or rules.mmr_lambda < 1.0
    window = len(fused) if reorders else max(HYDRATE_WINDOW_PER_ITEM * count, MIN_POOL)
    items: dict[int, Any] = {}
    if not fused:
        return items
    for start in range(0, len(fused), window):
        items.update(
            candidate_store.servable_items(
                tenant_id=serving.tenant.pk,
                item_ids=[f.item for f in fused[start : start + window]],
                exclude_item_ids=exclude,
                item_filter=rules.item_filter,
            )
        )
        if len(items) >= count:
            break
    return items


def _finish(
    *,
    serving: Serving,
    candidates: Candidates,
    weights: Mapping[str, float],
    rules: Rules,
    count: int,
    exclude: Sequence[int],
    fill: bool = True,
    explore: bool = True,
    ranker: tuple[LoadedRanker, History] | None = None,
) -> tuple[list[Ranked], dict[int, Any]]:
    fused = fuse(
        candidates.scores,
        weights,
        method=serving.config["fusion"]["method"],
        rrf_k=int(serving.config["fusion"]["rrf_k"]),
    )
    if ranker is not None:
        # The learned second stage orders the fused pool; rules and diversity apply after it.
        fused = rerank(serving, ranker[0], candidates, fused, ranker[1])
    items = _servable(serving, fused, rules, count, exclude)
    ranked = _diversify(serving, _boosted(fused, rules, items), rules, items, count)
    if explore:
        ranked = _with_fresh(serving, fused, ranked, items, rules, count, exclude)
    if fill and len(ranked) < count:
        # Sources ran dry under the filters: newest items that pass them fill the list, so a
        # request gets `count` items whenever that many match the filters and the cap.
        have = {r.item for r in ranked}
        # Under a category cap some of the newest may be capped out: ask for a pool's worth.
        wanted = _pool(count) if rules.max_per_category > 0 else count - len(ranked)
        padding = ranking_candidates(
            serving, "newest", wanted, [*exclude, *have], rules.item_filter
        )
        items.update(
            candidate_store.servable_items(
                tenant_id=serving.tenant.pk, item_ids=[i for i, _ in padding]
            )
        )
        floor = min((r.score for r in ranked), default=1.0)
        for n, (item_id, _) in enumerate(padding):
            score = floor * 0.5 ** (n + 1)
            ranked.append(Ranked(item_id, score, Fused(item_id, score, {"newest": 1.0})))
        if rules.max_per_category > 0:
            kept = set(
                cap_per_category(
                    [r.item for r in ranked],
                    {r.item: items[r.item].categories for r in ranked},
                    rules.max_per_category,
                    count,
                )
            )
            ranked = [r for r in ranked if r.item in kept]
    return ranked[:count], items


def _with_fresh(
    serving: Serving,
    fused: list[Fused],
    ranked: list[Ranked],
    items: dict[int, Any],
    rules: Rules,
    count: int,
    exclude: Sequence[int],
) -> list[Ranked]:
    """The list with `fusion.fresh_share` of its places kept for candidates that had no event
    before the serving version was trained (see engine.exploration)."""
    slots = fresh_slots(fresh_share(serving), count)
    if slots == 0 or serving.version is None or not fused:
        return ranked
    fresh = candidate_store.servable_items(
        tenant_id=serving.tenant.pk,
        item_ids=[f.item for f in fused],
        exclude_item_ids=exclude,
        item_filter=rules.item_filter,
        no_events_before=serving.version.created_at,
    )
    if not fresh:
        return ranked
    order = reserve_fresh(
        [r.item for r in ranked], [f.item for f in fused if f.item in fresh], fresh, slots, count
    )
    items.update(fresh)
    if rules.max_per_category > 0:
        categories = {item_id: items[item_id].categories for item_id in order}
        order = cap_per_category(order, categories, rules.max_per_category, count)
    by_id = {r.item: r for r in ranked}
    fused_by_id = {f.item: f for f in fused}
    return [
        by_id.get(item_id) or Ranked(item_id, fused_by_id[item_id].score, fused_by_id[item_id])
        for item_id in order
    ]


def _log_served(
    serving: Serving,
    endpoint: str,
    user_id: int | None,
    ranked: list[Ranked],
    recommendation_id: str,
) -> None:
    """Record the list on a pool thread while the response goes out: feedback names the
    recommendation_id and is attributed by it later, so nothing waits for the row."""
    item_ids = [r.item for r in ranked]
    version_id = serving.version.pk if serving.version else None
    variant_id = serving.variant.id if serving.variant else None
    run_after(
        lambda: candidate_store.log_served_list(
            tenant_id=serving.tenant.pk,
            recommendation_id=recommendation_id,
            endpoint=endpoint,
            user_id=user_id,
            item_ids=item_ids,
            version_id=version_id,
            config_version=serving.config_version,
            variant_id=variant_id,
        )
    )


def _log_and_render(
    *,
    serving: Serving,
    endpoint: str,
    user_id: int | None,
    ranked: list[Ranked],
    items: Mapping[int, Any],
    texts: Mapping[int, dict[str, Any]] | None,
    log: bool = True,
) -> dict[str, Any]:
    recommendation_id = None
    if log:
        recommendation_id = uuid.uuid4().hex
        _log_served(serving, endpoint, user_id, ranked, recommendation_id)
    rendered = []
    for entry in ranked:
        row: dict[str, Any] = {"id": items[entry.item].external_id, "score": round(entry.score, 6)}
        if texts is not None:
            row["explanation"] = texts[entry.item]
        rendered.append(row)
    return {
        "recommendation_id": recommendation_id,
        "model_version": serving.version.label if serving.version else None,
        "config_version": serving.config_version,
        "content_space": serving.content_space.pk if serving.content_space else None,
        "experiment": _experiment(serving.variant),
        "items": rendered,
    }


def _experiment(variant: Variant | None) -> dict[str, Any] | None:
    """The A/B test and variant that served the list, for the client's own analytics."""
    if variant is None:
        return None
    return {"id": variant.experiment_id, "variant": variant.name}


@dataclass(frozen=True)
class ListRequest:
    count: int
    explain: bool
    rules: Rules
    context_items: list[str]


# Parameters only a user's recommendations take.
USER_PARAMS = frozenset({"context_items"})


def parse_list_request(
    serving: Serving,
    params: Sequence[tuple[str, str]],
    extra_params: frozenset[str] = frozenset(),
) -> ListRequest:
    """count, explain and the rules from a request's query parameters (400s on bad input)."""
    values = dict(params)
    return ListRequest(
        count=parse_count(values.get("count")),
        explain=parse_flag(values.get("explain"), "explain"),
        rules=parse_rules(
            tenant=serving.tenant, config=serving.config, params=params, extra_params=extra_params
        ),
        context_items=parse_context_items(values.get("context_items")),
    )


def recommend_for_user(
    *,
    tenant: Tenant,
    user_id: str,
    params: Sequence[tuple[str, str]],
    config: dict[str, Any] | None = None,
    log: bool = True,
) -> dict[str, Any]:
    """The fused list for a user; cold and never-seen users walk the fallback chain, and
    `context_items` in `params` (what the visitor looks at now) seed a session-based list.

    `config` replaces the active configuration and `log=False` serves without a served-list
    record (the admin's preview of a draft)."""
    serving, user_pk = serving_for_user(tenant, user_id, config)
    request = parse_list_request(serving, params, USER_PARAMS)
    count, explain, rules = request.count, request.explain, request.rules
    history = (
        user_history(user_id=user_pk, serving=serving, exclude_types=rules.exclude_seen)
        if user_pk is not None
        else None
    )
    pool = _pool(count)
    context = items_named(tenant, request.context_items) if request.context_items else {}
    if context:
        return _session_list(
            serving=serving,
            user_pk=user_pk,
            history=history,
            request=request,
            context=context,
            log=log,
        )
    ranker = None
    if history is None or user_pk is None:
        # A visitor never seen: the cold-start chain, nothing personal to read.
        history = empty_history()
        candidates, weights = _cold_start(serving, None, history, pool, rules)
    elif history.is_empty:
        candidates, weights = _cold_start(serving, user_pk, history, pool, rules)
    else:
        sources = enabled_sources(serving.config)
        candidates = user_candidates(
            serving=serving,
            user_id=user_pk,
            history=history,
            pool=pool,
            item_filter=rules.item_filter,
            sources=sources,
        )
        weights = user_weights(serving, sources)
        loaded = version_ranker(serving)
        ranker = (loaded, history) if loaded is not None else None
        if not candidates.scores:
            ranker = None
            candidates, weights = _cold_start(serving, user_pk, history, pool, rules)
    exclude = sorted(history.excluded)
    ranked, items = _finish(
        serving=serving,
        candidates=candidates,
        weights=weights,
        rules=rules,
        count=count,
        exclude=exclude,
        ranker=ranker,
    )
    texts = None
    if explain:
        texts = explanations.for_user(
            serving=serving,
            ranked=[(r.item, r.shares) for r in ranked],
            candidates=candidates,
            history=history,
            items=items,
            rules=rules,
        )
    return _log_and_render(
        serving=serving,
        endpoint="recommendations",
        user_id=user_pk,
        ranked=ranked,
        items=items,
        texts=texts,
        log=log,
    )


def _session_list(
    *,
    serving: Serving,
    user_pk: int | None,
    history: History | None,
    request: ListRequest,
    context: dict[str, tuple[int, str]],
    log: bool,
) -> dict[str, Any]:
    """Items like those in the visitor's context (in the request's order), minus the user's
    excluded items; the cold-start chain when the context has no neighbours yet."""
    count, rules = request.count, request.rules
    seeds = context_seeds([context[i][0] for i in request.context_items if i in context])
    excluded = set(history.excluded) if history is not None else set()
    candidates = session_candidates(
        serving=serving,
        seeds=seeds,
        exclude=excluded,
        pool=_pool(count),
        item_filter=rules.item_filter,
    )
    weights = {name: serving.weight(name) for name in candidates.scores}
    if not candidates.scores:
        candidates, weights = _cold_start(
            serving, user_pk, history or empty_history(), _pool(count), rules
        )
    ranked, items = _finish(
        serving=serving,
        candidates=candidates,
        weights=weights,
        rules=rules,
        count=count,
        exclude=sorted(excluded | set(seeds)),
    )
    texts = None
    if request.explain:
        texts = explanations.for_session(
            serving=serving,
            ranked=[(r.item, r.shares) for r in ranked],
            because=candidates.because,
            seed_titles=dict(context.values()),
            items=items,
            rules=rules,
        )
    return _log_and_render(
        serving=serving,
        endpoint="recommendations",
        user_id=user_pk,
        ranked=ranked,
        items=items,
        texts=texts,
        log=log,
    )


def _cold_start(
    serving: Serving, user_id: int | None, history: History, pool: int, rules: Rules
) -> tuple[Candidates, dict[str, float]]:
    """Profile text if any, then trending, then popular: the first that yields items."""
    for source in COLD_USER_CHAIN:
        if user_id is None and source == "content":
            continue  # a visitor never seen has no profile text
        found = user_candidates(
            serving=serving,
            user_id=user_id,
            history=history,
            pool=pool,
            item_filter=rules.item_filter,
            sources=[source],
        )
        if found.scores:
            return found, {source: 1.0}
    return Candidates(), {}


def similar_items(
    *, tenant: Tenant, item_id: str, params: Sequence[tuple[str, str]], log: bool = True
) -> dict[str, Any]:
    """Items like this one: content neighbours fused with co-occurrence (and EASE) lists.

    `log=False` serves without a served-list record (the admin's item page)."""
    item = access_item_by_external_id(item_id)
    serving = serving_for(tenant)
    request = parse_list_request(serving, params)
    count, explain, rules = request.count, request.explain, request.rules
    sources = similar_item_sources(serving.config)
    vector = None
    if serving.content_space is not None:
        vector = vectorstore.item_vectors(serving.content_space, [item.pk]).get(item.pk)
    candidates = item_candidates(
        serving=serving,
        item_id=item.pk,
        item_vector=vector,
        pool=_pool(count),
        item_filter=rules.item_filter,
        sources=sources,
    )
    if not candidates.scores:
        if active_space(tenant.pk) is not None and vector is None:
            raise ApplicationError(
                "not_ready",
                f"Item {item_id!r} is not encoded yet; try again shortly.",
                http_status=409,
            )
        if serving.content_space is None and serving.version is None:
            raise ApplicationError(
                "not_ready",
                "This tenant has no vectors or trained model yet: encoding or training is due.",
                http_status=409,
            )
    ranked, items = _finish(
        serving=serving,
        candidates=candidates,
        weights={name: serving.weight(name) for name in sources},
        rules=rules,
        count=count,
        exclude=[item.pk],
    )
    texts = None
    if explain:
        texts = explanations.for_item(
            ranked=[(r.item, r.shares) for r in ranked], seed_title=item.title or item.external_id
        )
    return _log_and_render(
        serving=serving,
        endpoint="similar",
        user_id=None,
        ranked=ranked,
        items=items,
        texts=texts,
        log=log,
    )


def ranked_list(
    *, tenant: Tenant, ranking: str, params: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """/popular and /trending: the version's ranking under the request's filters."""
    serving = serving_for(tenant)
    request = parse_list_request(serving, params)
    count, explain, rules = request.count, request.explain, request.rules
    pairs = ranking_candidates(serving, ranking, _pool(count), [], rules.item_filter)
    candidates = Candidates()
    candidates.add(ranking, pairs)
    ranked, items = _finish(
        serving=serving,
        candidates=candidates,
        weights={ranking: 1.0},
        rules=rules,
        count=count,
        exclude=[],
        # A popular or trending list is only what is popular or trending: no padding and no
        # fresh items.
        fill=False,
        explore=False,
    )
    texts = None
    if explain:
        texts = explanations.for_ranking(
            serving=serving,
            ranking=ranking,
            ranked=[r.item for r in ranked],
            items=items,
            rules=rules,
        )
    return _log_and_render(
        serving=serving, endpoint=ranking, user_id=None, ranked=ranked, items=items, texts=texts
    )
