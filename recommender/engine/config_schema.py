"""The tenant's recommender configuration: defaults and validation with readable messages.

Pure Python (no Django), so the admin, the API and the services validate the same way.
"""

from __future__ import annotations

import copy
import string
from typing import Any

DEFAULT_ITEM_TEMPLATE = "{title}. {description}. Categories: {categories}"
DEFAULT_USER_TEMPLATE = "{profile_text}"
ITEM_TEMPLATE_FIELDS = frozenset({"title", "description", "categories", "attributes", "id"})
USER_TEMPLATE_FIELDS = frozenset({"profile_text", "attributes", "id"})

DEFAULT_CONFIG: dict[str, Any] = {
    "encoder": {
        "model": "packaged:all-MiniLM-L6-v2",
        "pooling": "mean",
        "max_length": 256,
        "normalize": True,
        "precision": "auto",
        "device": "auto",
        "batch_size": 64,
        "item_template": DEFAULT_ITEM_TEMPLATE,
        "user_template": DEFAULT_USER_TEMPLATE,
    },
    "interactions": {
        "types": {
            "view": 1.0,
            "click": 2.0,
            "cart": 4.0,
            "purchase": 8.0,
            "rating": 1.0,
            "like": 4.0,
            "dislike": -4.0,
        },
        "half_life_days": 30.0,
    },
    "profile": {
        "text_weight": 0.3,
        "max_events": 200,
    },
}


class ConfigError(ValueError):
    """Raised with every problem found: `errors` is a list of {"field": path, "message": ...}."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "types":
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _template_errors(template: Any, allowed: frozenset[str], path: str) -> list[dict[str, str]]:
    if not isinstance(template, str) or not template.strip():
        return [{"field": path, "message": "must be a non-empty text template"}]
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return [{"field": path, "message": f"is not a valid template: {exc}"}]
    errors = []
    for _, name, _, _ in parts:
        if name is None:
            continue
        root = name.split(".")[0].split("[")[0]
        if root not in allowed:
            errors.append(
                {
                    "field": path,
                    "message": f"unknown placeholder {{{name}}}; use {sorted(allowed)}",
                }
            )
    return errors


def _check(errors: list[dict[str, str]], ok: bool, path: str, message: str) -> None:
    if not ok:
        errors.append({"field": path, "message": message})


def validate_config(raw: Any) -> dict[str, Any]:
    """Defaults filled in and every field checked; raises ConfigError listing all problems."""
    if not isinstance(raw, dict):
        raise ConfigError([{"field": "", "message": "the configuration must be a JSON object"}])
    unknown = sorted(set(raw) - set(DEFAULT_CONFIG))
    errors = [{"field": key, "message": "unknown section"} for key in unknown]
    config = _merge(DEFAULT_CONFIG, raw)

    encoder = config["encoder"]
    if not isinstance(encoder, dict):
        raise ConfigError([{"field": "encoder", "message": "must be an object"}])
    for key in sorted(set(encoder) - set(DEFAULT_CONFIG["encoder"])):
        errors.append({"field": f"encoder.{key}", "message": "unknown setting"})
    _check(
        errors,
        isinstance(encoder["model"], str) and bool(encoder["model"].strip()),
        "encoder.model",
        "must name a Hugging Face model id or a local path",
    )
    _check(errors, encoder["pooling"] in ("cls", "mean"), "encoder.pooling", "must be cls or mean")
    _check(
        errors,
        isinstance(encoder["max_length"], int) and 8 <= encoder["max_length"] <= 8192,
        "encoder.max_length",
        "must be an integer from 8 to 8192",
    )
    _check(
        errors, isinstance(encoder["normalize"], bool), "encoder.normalize", "must be true/false"
    )
    _check(
        errors,
        encoder["precision"] in ("auto", "fp32", "bf16", "fp16"),
        "encoder.precision",
        "must be auto, fp32, bf16 or fp16",
    )
    _check(
        errors,
        isinstance(encoder["device"], str)
        and (encoder["device"] in ("auto", "cpu", "cuda") or encoder["device"].startswith("cuda:")),
        "encoder.device",
        "must be auto, cpu, cuda or cuda:N",
    )
    _check(
        errors,
        isinstance(encoder["batch_size"], int) and 1 <= encoder["batch_size"] <= 4096,
        "encoder.batch_size",
        "must be an integer from 1 to 4096",
    )
    errors += _template_errors(
        encoder["item_template"], ITEM_TEMPLATE_FIELDS, "encoder.item_template"
    )
    errors += _template_errors(
        encoder["user_template"], USER_TEMPLATE_FIELDS, "encoder.user_template"
    )

    interactions = config["interactions"]
    types = interactions.get("types")
    if not isinstance(types, dict) or not types:
        errors.append({"field": "interactions.types", "message": "must map type names to weights"})
    else:
        for name, weight in types.items():
            _check(
                errors,
                isinstance(name, str) and name.isidentifier() and len(name) <= 32,
                f"interactions.types.{name}",
                "type names are identifiers of at most 32 characters",
            )
            _check(
                errors,
                isinstance(weight, (int, float)) and not isinstance(weight, bool),
                f"interactions.types.{name}",
                "the weight must be a number",
            )
    half_life = interactions.get("half_life_days")
    _check(
        errors,
        isinstance(half_life, (int, float)) and not isinstance(half_life, bool) and half_life > 0,
        "interactions.half_life_days",
        "must be a positive number of days",
    )

    profile = config["profile"]
    weight = profile.get("text_weight")
    _check(
        errors,
        isinstance(weight, (int, float)) and not isinstance(weight, bool) and 0 <= weight <= 1,
        "profile.text_weight",
        "must be a number from 0 to 1",
    )
    max_events = profile.get("max_events")
    _check(
        errors,
        isinstance(max_events, int) and 1 <= max_events <= 10_000,
        "profile.max_events",
        "must be an integer from 1 to 10000",
    )
    if errors:
        raise ConfigError(errors)
    return config


def render_template(template: str, values: dict[str, Any]) -> str:
    """Fill a validated template; lists are joined with ', ', missing attributes become ''."""

    class _Lenient(dict[str, Any]):
        def __missing__(self, key: str) -> str:
            return ""

        def __getattr__(self, key: str) -> Any:  # {attributes.brand} as well as [brand]
            return self[key]

    prepared: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list):
            prepared[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            prepared[key] = _Lenient(value)
        elif value is None:
            prepared[key] = ""
        else:
            prepared[key] = value
    return " ".join(template.format_map(_Lenient(prepared)).split())
