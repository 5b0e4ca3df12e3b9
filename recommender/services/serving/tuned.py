"""The settings a version's training tuned (its "tuning.sources.applied"), laid over the
configuration it serves under, so a user's history is weighed at serving as the version's
sources were fitted and measured (the day and position half-lives)."""

from typing import Any

from recommender.engine.source_tuning import with_value
from recommender.models import ModelVersion


def with_tuned_settings(
    config: dict[str, Any], version: ModelVersion | None, config_version: int | None
) -> dict[str, Any]:
    """`config` with the version's tuned settings while the configuration it was tuned under
    serves (as for the tuned weights); otherwise `config` as it is."""
    tuning = version.metrics.get("tuning", {}) if version is not None else {}
    applied = (tuning.get("sources") or {}).get("applied") or {}
    if not applied or tuning.get("config_version") != config_version:
        return config
    for name, value in applied.items():
        config = with_value(config, name.split("."), float(value))
    return config
