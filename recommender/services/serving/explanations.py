"""Why an item is in a list: the sources that put it there with their shares, and one sentence
from the source with the largest share ("Because you bought Trail Runner 2")."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from recommender import vectorstore
from recommender.engine.profiles import cosine_matrix
from recommender.engine.sources import SOURCE_SPECS
from recommender.models import Item
from recommender.services.serving.candidates import Candidates
from recommender.services.serving.history import History
from recommender.services.serving.rules import Rules
from recommender.services.serving.state import Serving

VERBS = {
    "view": "viewed",
    "click": "clicked",
    "cart": "added to your cart",
    "purchase": "bought",
    "like": "liked",
    "rating": "rated",
}


def _sources(shares: Mapping[str, float]) -> list[dict[str, Any]]:
    ordered = sorted(shares.items(), key=lambda pair: (-pair[1], pair[0]))
    return [{"source": name, "share": round(share, 3)} for name, share in ordered]


# A personal reason ("Because you bought X") is given when its source holds this share.
PERSONAL_SHARE = 0.3


def _dominant(shares: Mapping[str, float]) -> str:
    """The source whose sentence explains the item: the largest personal one when it holds a
    fair share, else the largest of all."""
    personal = {name: share for name, share in shares.items() if SOURCE_SPECS[name].personal}
    pool = personal if personal and max(personal.values()) >= PERSONAL_SHARE else shares
    return min(pool.items(), key=lambda pair: (-pair[1], pair[0]))[0]


def _category_phrase(item: Any, rules: Rules) -> str:
    wanted = [c for c in rules.item_filter.include_categories if c in item.categories]
    return f" in {wanted[0]}" if wanted else ""


def _user_text(serving: Serving, source: str, item: Any, rules: Rules) -> str:
    """The source's own sentence for an item in a user's (or a ranking's) list, with the window
    the serving model was trained with (the configuration's before any training)."""
    trained = (serving.version.sources.get(source) or {}) if serving.version else {}
    settings = trained.get("settings") or serving.config["sources"].get(source, {})
    return SOURCE_SPECS[source].phrase(settings, _category_phrase(item, rules))


def _closest_evidence(
    serving: Serving, candidates: Candidates, item_ids: Sequence[int]
) -> dict[int, tuple[int, str, float]]:
    """For content results: the interacted item each is closest to (id, type, similarity)."""
    profile = candidates.profile
    if (
        not item_ids
        or profile is None
        or profile.evidence_vectors is None
        or serving.content_space is None
    ):
        return {}
    stored = vectorstore.item_vectors(serving.content_space, list(item_ids))
    present = [i for i in item_ids if i in stored]
    if not present:
        return {}
    sims = cosine_matrix(np.stack([stored[i] for i in present]), profile.evidence_vectors)
    out = {}
    for row, item_id in enumerate(present):
        j = int(sims[row].argmax())
        evidence_item, kind, _ = profile.evidence[j]
        out[item_id] = (evidence_item, kind, float(sims[row, j]))
    return out


def _titles(tenant_items: Any, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    return {
        pk: (external_id, title or external_id)
        for pk, external_id, title in tenant_items.filter(pk__in=list(ids)).values_list(
            "pk", "external_id", "title"
        )
    }


def for_user(
    *,
    serving: Serving,
    ranked: Sequence[tuple[int, dict[str, float]]],
    candidates: Candidates,
    history: History,
    items: Mapping[int, Any],
    rules: Rules,
) -> dict[int, dict[str, Any]]:
    dominant = {item: _dominant(shares) for item, shares in ranked}
    content_ids = [
        item
        for item, source in dominant.items()
        if SOURCE_SPECS[source].artifact == "content_vectors"
    ]
    evidence = _closest_evidence(serving, candidates, content_ids)
    because: dict[int, tuple[int, str, float | None]] = {
        item: evidence[item] for item in content_ids if item in evidence
    }
    for item, source in dominant.items():
        # Neighbour-list sources name the history item that put each candidate there.
        seed = candidates.because.get(source, {}).get(item)
        if seed is not None:
            because[item] = (seed, history.kinds.get(seed, "view"), None)
    names = _titles(Item.objects.for_tenant(serving.tenant), [b[0] for b in because.values()])
    out: dict[int, dict[str, Any]] = {}
    for item, shares in ranked:
        source = dominant[item]
        entry: dict[str, Any] = {"sources": _sources(shares)}
        if item in because:
            seed, kind, similarity = because[item]
            external_id, title = names[seed]
            entry["because_of"] = {"id": external_id, "type": kind}
            if similarity is not None:
                entry["because_of"]["similarity"] = round(similarity, 6)
            entry["text"] = f"Because you {VERBS.get(kind, 'interacted with')} {title}"
        else:
            entry["text"] = _user_text(serving, source, items[item], rules)
        out[item] = entry
    return out


def for_item(
    *, ranked: Sequence[tuple[int, dict[str, float]]], seed_title: str
) -> dict[int, dict[str, Any]]:
    out = {}
    for item, shares in ranked:
        text = SOURCE_SPECS[_dominant(shares)].item_phrase.replace("{seed}", seed_title)
        out[item] = {"sources": _sources(shares), "text": text}
    return out


def for_ranking(
    *,
    serving: Serving,
    ranking: str,
    ranked: Sequence[int],
    items: Mapping[int, Any],
    rules: Rules,
) -> dict[int, dict[str, Any]]:
    return {
        item: {
            "sources": [{"source": ranking, "share": 1.0}],
            "text": _user_text(serving, ranking, items[item], rules),
        }
        for item in ranked
    }


def for_session(
    *,
    serving: Serving,
    ranked: Sequence[tuple[int, dict[str, float]]],
    because: Mapping[str, Mapping[int, int]],
    seed_titles: Mapping[int, str],
    items: Mapping[int, Any],
    rules: Rules,
) -> dict[int, dict[str, Any]]:
    """A session list: each item's sentence names the context item that brought it (the
    neighbour lists say which; content similarity names the first, the item on screen)."""
    first_seed = next(iter(seed_titles))
    out = {}
    for item, shares in ranked:
        source = _dominant(shares)
        spec = SOURCE_SPECS[source]
        if spec.similar_items:
            seed = because.get(source, {}).get(item, first_seed)
            text = spec.item_phrase.replace("{seed}", seed_titles.get(seed, ""))
        else:  # the cold-start chain or padding, when the context had no neighbours
            text = _user_text(serving, source, items[item], rules)
        out[item] = {"sources": _sources(shares), "text": text}
    return out
