"""The configuration as a form: a JSON schema (django-jsonform's dialect) generated from the
defaults and the source registry, and the two conversions between stored data and form data.

Generated, not written: a new source (its settings, bounds, help) or a new default appears in
the form with no change here. Validation stays `config_schema.validate_config`, which the form's
data goes through on save; this schema only shapes the editor and shows help and defaults.
"""

from __future__ import annotations

import copy
from typing import Any

from recommender.engine.config_schema import default_config
from recommender.engine.sources import SOURCE_SPECS
from recommender.engine.sources.registry import WEIGHT, Setting

SECTION_TITLES = {
    "encoder": "Encoder (item and user text to vectors)",
    "interactions": "Interactions (event types and weights)",
    "profile": "User profiles",
    "sources": "Candidate sources",
    "fusion": "Fusion",
    "rules": "Business rules",
    "training": "Training and schedule",
}
# Settings with a fixed set of values.
CHOICES: dict[str, list[str]] = {
    "encoder.pooling": ["mean", "cls"],
    "encoder.precision": ["auto", "fp32", "bf16", "fp16"],
    "fusion.method": ["weighted", "rrf"],
    "fusion.ranker": ["auto", "off"],
    "training.promote": ["if_better", "always"],
}
HELP: dict[str, str] = {
    "encoder.model": "Hugging Face model id or local path; packaged:all-MiniLM-L6-v2 ships with "
    "the platform. Changing it re-encodes the catalogue into a new space.",
    "encoder.pooling": "How token vectors become one text vector.",
    "encoder.max_length": "Tokens read per text (8-8192).",
    "encoder.normalize": "Unit-length vectors (cosine similarity).",
    "encoder.precision": "Numeric precision on the worker; auto picks by device.",
    "encoder.device": "auto, cpu, cuda or cuda:N.",
    "encoder.batch_size": "Texts per encoder batch (1-4096).",
    "encoder.item_template": "Text encoded per item: {title}, {description}, {categories}, {id}, "
    "{attributes.NAME}. A change re-encodes every item.",
    "encoder.user_template": "Text encoded per user: {profile_text}, {id}, {attributes.NAME}.",
    "interactions.types": "Event types the API accepts and their weight in profiles and "
    "training (negative: dislike).",
    "interactions.half_life_days": "An event's weight halves every this many days.",
    "profile.text_weight": "Share of the user's own profile text in the content profile (0-1).",
    "profile.max_events": "Newest events read per user profile.",
    "profile.recent_half_life_events": "Before the current session an event's weight halves "
    "every this many newer events (0 = off).",
    "profile.session_gap_minutes": "Events with no pause longer than this form the current "
    "session, all weighted as the newest.",
    "profile.seed_items": "Item-to-item candidates come from this many newest history items.",
    "fusion.method": "weighted: normalised scores times weights; rrf: reciprocal-rank fusion.",
    "fusion.rrf_k": "Reciprocal-rank fusion constant.",
    "fusion.ranker": "auto: a learned ranker serves when it beats this fusion on validation.",
    "rules.exclude_seen": "all, or interaction types separated by commas (e.g. purchase,cart) "
    "whose items are not recommended back; empty = none.",
    "rules.boosts": 'Multiply matching items\' scores, e.g. when "category=Running" factor 1.5.',
    "rules.max_per_category": "At most this many items of one category per list (0 = no cap).",
    "rules.mmr_lambda": "Diversity: 1 = relevance only, lower = more diverse.",
    "training.neighbours": "Neighbours kept per item by item-to-item sources.",
    "training.test_fraction": "Share of the newest events held out for offline metrics.",
    "training.eval_users": "Users evaluated offline.",
    "training.k": "Cut-off of the offline metrics (NDCG@k ...).",
    "training.promote": "if_better: a new version serves only when it beats the active one.",
    "training.retrain_every_hours": "The retraining schedule: retrain when this many hours "
    "passed since the last training and new events arrived (0 = only on request).",
    "training.tuning_budget_s": "Seconds of per-tenant tuning of fusion weights (0 = off).",
    "training.tuning_trials": "Most trials per tuning study.",
}


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _leaf(path: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        field: dict[str, Any] = {"type": "boolean"}
    elif isinstance(value, int):
        field = {"type": "integer"}
    elif isinstance(value, float):
        field = {"type": "number"}
    else:
        field = {"type": "string"}
    if path in CHOICES:
        field["choices"] = CHOICES[path]
    if path.endswith("_template"):
        field["widget"] = "textarea"
    field["title"] = _title(path.rsplit(".", 1)[-1])
    help_text = HELP.get(path, "")
    field["help_text"] = f"{help_text} Default: {value!r}.".strip()
    field["default"] = value
    return field


def _setting(name: str, setting: Setting, default: Any) -> dict[str, Any]:
    kind = "integer" if setting.kind is int else "number"
    return {
        "type": kind,
        "title": _title(name),
        "minimum": setting.low,
        "maximum": setting.high,
        "default": default,
        "help_text": f"{setting.help} ({setting.low:g}-{setting.high:g}; default {default:g}).",
    }


def _section(section: str, values: dict[str, Any]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{section}.{key}"
        if path == "interactions.types":
            keys[key] = {
                "type": "dict",
                "title": "Types",
                "keys": {},
                "additionalProperties": {"type": "number"},
                "help_text": HELP[path],
            }
        elif path == "rules.boosts":
            keys[key] = {
                "type": "array",
                "title": "Boosts",
                "help_text": HELP[path],
                "items": {
                    "type": "object",
                    "keys": {
                        "when": {"type": "string", "title": "When"},
                        "factor": {"type": "number", "title": "Factor"},
                    },
                },
            }
        elif path == "rules.exclude_seen":
            keys[key] = _leaf(path, "all")
        else:
            keys[key] = _leaf(path, value)
    return {"type": "object", "title": SECTION_TITLES.get(section, _title(section)), "keys": keys}


def _sources_section(defaults: dict[str, Any]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for name, spec in SOURCE_SPECS.items():
        values = defaults[name]
        settings = {"weight": _setting("weight", WEIGHT, values["weight"])}
        for key, setting in spec.settings.items():
            settings[key] = _setting(key, setting, values[key])
        keys[name] = {"type": "object", "title": _title(name), "keys": settings}
    return {"type": "object", "title": SECTION_TITLES["sources"], "keys": keys}


def config_form_schema() -> dict[str, Any]:
    """The editor's schema: one group per section, sources from the registry."""
    defaults = default_config()
    keys = {
        section: _sources_section(values) if section == "sources" else _section(section, values)
        for section, values in defaults.items()
    }
    return {"type": "object", "keys": keys}


def to_form(config: dict[str, Any]) -> dict[str, Any]:
    """Stored (validated) configuration → the editor's data."""
    data = copy.deepcopy(config)
    seen = data.get("rules", {}).get("exclude_seen")
    if isinstance(seen, list):
        data["rules"]["exclude_seen"] = ",".join(seen)
    return data


def from_form(data: dict[str, Any]) -> dict[str, Any]:
    """The editor's data → a configuration for `validate_config`."""
    config = copy.deepcopy(data)
    rules = config.get("rules")
    if isinstance(rules, dict) and isinstance(rules.get("exclude_seen"), str):
        text = rules["exclude_seen"].strip()
        rules["exclude_seen"] = (
            "all" if text == "all" else [part.strip() for part in text.split(",") if part.strip()]
        )
    return config
