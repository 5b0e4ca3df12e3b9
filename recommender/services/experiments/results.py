"""An experiment's results: per variant, the lists it served, their attributed click-through
and conversion, each non-control variant against the control (lift with a 95% interval, a
two-proportion z-test), a sample-ratio-mismatch check and warnings.

The unit of a rate is a served list: clicked when an event of a click type names its
recommendation_id on an item it showed (converted likewise). The sample-ratio check counts the
distinct known users each variant served (the unit of assignment; never-seen visitors have no
user row and are left out of it).
"""

from dataclasses import asdict
from typing import Any

from recommender.engine import ab_stats
from recommender.models import Experiment
from recommender.stores.feedback import VariantCounts, variant_counts

METRICS = {"click_through": "clicked", "conversion": "converted"}


def _comparison(control: VariantCounts, variant: VariantCounts) -> dict[str, Any]:
    out = {}
    for metric, field in METRICS.items():
        compared = ab_stats.compare(
            (getattr(control, field), control.lists), (getattr(variant, field), variant.lists)
        )
        out[metric] = asdict(compared)
    return out


def experiment_summary(experiment: Experiment) -> dict[str, Any]:
    """The experiment without its counts: what `GET /api/v1/experiments` lists."""
    variants = list(experiment.variants.select_related("config"))
    winner = next((v.name for v in variants if v.pk == experiment.winner_id), None)
    return {
        "id": experiment.pk,
        "name": experiment.name,
        "status": experiment.status,
        "click_types": list(experiment.click_types),
        "conversion_types": list(experiment.conversion_types),
        "created_at": experiment.created_at,
        "started_at": experiment.started_at,
        "stopped_at": experiment.stopped_at,
        "winner": winner,
        "variants": [
            {
                "name": v.name,
                "config_version": v.config.version,
                "share": v.share / sum(x.share for x in variants),
                "control": position == 0,
            }
            for position, v in enumerate(variants)
        ],
    }


def experiment_results(experiment: Experiment) -> dict[str, Any]:
    """The summary with each variant's counts, rates and comparison, the sample-ratio check
    and the warnings a reader should see first."""
    summary = experiment_summary(experiment)
    rows = list(experiment.variants.order_by("position", "id"))
    counts = variant_counts(
        tenant_id=experiment.tenant_id,
        variant_ids=[v.pk for v in rows],
        click_types=list(experiment.click_types),
        conversion_types=list(experiment.conversion_types),
    )
    control = counts[rows[0].pk]
    warnings = []
    for shown, row in zip(summary["variants"], rows, strict=True):
        found = counts[row.pk]
        shown.update(
            lists=found.lists,
            users=found.users,
            clicked=found.clicked,
            converted=found.converted,
            click_through=ab_stats.rate(found.clicked, found.lists),
            conversion=ab_stats.rate(found.converted, found.lists),
            vs_control=None if row.pk == rows[0].pk else _comparison(control, found),
        )
        if ab_stats.too_small(found.clicked, found.lists):
            warnings.append(
                f"Variant {row.name}: {found.lists} lists and {found.clicked} clicks are too few "
                f"to read (at least {ab_stats.MIN_TRIALS} lists and {ab_stats.MIN_SUCCESSES} "
                "clicks per variant)."
            )
    ratio = ab_stats.sample_ratio([counts[v.pk].users for v in rows], [v.share for v in rows])
    if ratio.mismatch:
        warnings.insert(
            0,
            f"Sample ratio mismatch (p = {ratio.p_value:.2g}): users per variant differ from the "
            "configured shares; assignment or logging is broken, do not trust the rates.",
        )
    return {
        **summary,
        "sample_ratio": {
            "users": [counts[v.pk].users for v in rows],
            "expected": list(ratio.expected),
            "chi_square": ratio.chi_square,
            "p_value": ratio.p_value,
            "mismatch": ratio.mismatch,
        },
        "warnings": warnings,
    }
