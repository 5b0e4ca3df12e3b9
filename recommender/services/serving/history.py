"""A user's recent history as serving weighs it: the events and vectors read in one statement,
decayed and type-weighted per item, and the item-to-item seeds weighted by recency."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from recommender.engine.profiles import Recency, decayed_weights
from recommender.services.serving.state import Serving
from recommender.stores import user_reads


@dataclass
class History:
    """A user's recent positive interactions, weighted as the profile weighs them."""

    # The events and vectors it was built from, read in one statement with the serving spaces.
    reading: user_reads.UserReading
    # item id → decayed, type-weighted sum; positive only
    weights: dict[int, float] = field(default_factory=dict)
    # item id → the type of the user's strongest interaction with it (for explanations)
    kinds: dict[int, str] = field(default_factory=dict)
    # The newest `profile.seed_items` items, weighted by days and by position from the current
    # session (engine.profiles.Recency): what item-to-item candidates start from. `weights`
    # stays day-decayed only, as the training matrix that ALS folds a user into.
    seeds: dict[int, float] = field(default_factory=dict)

    @property
    def excluded(self) -> set[int]:
        return self.reading.excluded

    @property
    def is_empty(self) -> bool:
        return not self.weights


def empty_history() -> History:
    """The history of a visitor never seen: no events, nothing to exclude."""
    return History(
        reading=user_reads.UserReading(
            recent=[],
            excluded=set(),
            item_vectors={},
            text_vector=None,
            factor=None,
            als_items=None,
        )
    )


def user_history(
    *, user_id: int, serving: Serving, exclude_types: tuple[str, ...] | None
) -> History:
    config = serving.config
    types = config["interactions"]["types"]
    reading = user_reads.read_user(
        user_id=user_id,
        recent=config["profile"]["max_events"],
        exclude_types=exclude_types,
        content_space=serving.content_space,
        cf_space=serving.cf_space,
        version_id=serving.version.pk if serving.version is not None else None,
        now=timezone.now(),
    )
    events = [event for event in reading.recent if event[1] in types]
    weights = decayed_weights(
        [float(types[kind]) for _, kind, _ in events],
        [age for _, _, age in events],
        float(config["interactions"]["half_life_days"]),
    )
    totals: dict[int, float] = defaultdict(float)
    strongest: dict[int, tuple[float, str]] = {}
    for (item, kind, _), weight in zip(events, weights, strict=True):
        totals[item] += float(weight)
        if weight > strongest.get(item, (0.0, ""))[0]:
            strongest[item] = (float(weight), kind)
    positive = {item: w for item, w in totals.items() if w > 0}
    recency = Recency.from_config(config)
    return History(
        weights=positive,
        kinds={item: strongest[item][1] for item in positive if item in strongest},
        seeds=recency.seeds(
            [item for item, _, _ in events],
            recency.event_weights(
                [float(types[kind]) for _, kind, _ in events], [age for _, _, age in events]
            ),
        ),
        reading=reading,
    )
