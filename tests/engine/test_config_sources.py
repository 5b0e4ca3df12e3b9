"""Configuration of sources, fusion, rules and training: defaults and readable errors."""

from typing import Any

import pytest

from recommender.engine.config_schema import (
    ConfigError,
    default_config,
    merge_config,
    validate_config,
)
from recommender.engine.sources import SOURCE_SPECS


def _errors(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        validate_config(raw)
    return {e["field"]: e["message"] for e in caught.value.errors}


def test_defaults_enable_content_als_cooccurrence_and_popular() -> None:
    config = validate_config({})
    enabled = {name for name in SOURCE_SPECS if config["sources"][name]["weight"] > 0}
    assert enabled == {"content", "als", "cooccurrence", "popular"}
    assert config["fusion"]["method"] == "weighted"
    assert config["rules"]["exclude_seen"] == "all"


def test_partial_source_settings_keep_the_other_defaults() -> None:
    config = validate_config({"sources": {"ease": {"weight": 2.0}}})
    assert config["sources"]["ease"] == {"weight": 2.0, "l2": 250.0, "max_items": 20_000}
    assert config["sources"]["als"] == default_config()["sources"]["als"]


def test_bad_source_settings_are_named() -> None:
    errors = _errors(
        {
            "sources": {
                "als": {"weight": -1, "factors": 2.5, "bogus": 1},
                "magic": {"weight": 1},
            }
        }
    )
    assert "from 0 to 100" in errors["sources.als.weight"]
    assert "integer" in errors["sources.als.factors"]
    assert errors["sources.als.bogus"] == "unknown setting"
    assert "unknown source" in errors["sources.magic"]


def test_all_sources_off_is_refused() -> None:
    errors = _errors({"sources": {name: {"weight": 0} for name in SOURCE_SPECS}})
    assert "at least one source" in errors["sources"]


def test_rules_fusion_and_training_are_checked() -> None:
    errors = _errors(
        {
            "fusion": {"method": "vote"},
            "rules": {
                "exclude_seen": ["purchase", "teleport"],
                "boosts": [{"when": "attr.price=9..1", "factor": 2}, {"factor": 0}],
                "mmr_lambda": 1.5,
            },
            "training": {"promote": "sometimes", "k": 0},
        }
    )
    assert errors["fusion.method"] == "must be weighted or rrf"
    assert "teleport" in errors["rules.exclude_seen"]
    assert "low > high" in errors["rules.boosts[0].when"]
    assert "when" in errors["rules.boosts[1]"]
    assert "from 0 to 1" in errors["rules.mmr_lambda"]
    assert errors["training.promote"] == "must be always or if_better"
    assert "from 1 to 100" in errors["training.k"]


def test_valid_rules_pass() -> None:
    config = validate_config(
        {
            "rules": {
                "exclude_seen": ["purchase"],
                "boosts": [{"when": "category=Running", "factor": 1.5}],
                "max_per_category": 3,
                "mmr_lambda": 0.7,
            }
        }
    )
    assert config["rules"]["max_per_category"] == 3


def test_merge_config_overlays_sections_replaces_types_and_copies() -> None:
    base: dict[str, Any] = {
        "fusion": {"method": "weighted", "k": 60},
        "interactions": {"types": {"view": 1.0, "purchase": 5.0}, "half_life_days": 30.0},
        "note": "base",
    }
    override: dict[str, Any] = {
        "fusion": {"k": 10},
        "interactions": {"types": {"like": 2.0}},
        "extra": {"a": [1]},
    }
    merged = merge_config(base, override)
    assert merged == {
        "fusion": {"method": "weighted", "k": 10},
        "interactions": {"types": {"like": 2.0}, "half_life_days": 30.0},
        "note": "base",
        "extra": {"a": [1]},
    }
    merged["fusion"]["method"] = "rrf"
    merged["extra"]["a"].append(2)
    assert base["fusion"]["method"] == "weighted"
    assert override["extra"] == {"a": [1]}
