"""The tenant's recommender configuration: defaults and validation with readable messages.

Pure Python (no Django), so the admin, the API and the services validate the same way.
"""

from __future__ import annotations

import copy
import string
from typing import Any

from recommender.engine.filters import FilterError, parse_filter_text
from recommender.engine.sources import SOURCE_SPECS
from recommender.engine.sources.registry import WEIGHT

DEFAULT_ITEM_TEMPLATE = "{title}. {description}. Categories: {categories}"
DEFAULT_USER_TEMPLATE = "{profile_text}"
ITEM_TEMPLATE_FIELDS = frozenset({"title", "description", "categories", "attributes", "id"})
USER_TEMPLATE_FIELDS = frozenset({"profile_text", "attributes", "id"})
VALUE_SCALES = ("linear", "log")
MAX_WEIGHT_LIMIT = 1e6

# Every section but "sources", whose defaults each source declares in its registry entry.
_DEFAULT_SECTIONS: dict[str, Any] = {
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
        # An event's weight is its type's weight x its value; "log" reads the value as
        # sign(v)·ln(1 + |v|) first (quantities, watch seconds), and every weight is clipped to
        # ±max_weight, so one outlier cannot swamp (or overflow) the fit.
        "value_scale": "linear",
        "max_weight": 100.0,
    },
    "profile": {
        "text_weight": 0.3,
        "max_events": 200,
        # Recency by position (engine.profiles.Recency): before the current session, an event's
        # weight halves every this many events (0 = off; the day decay applies either way).
        "recent_half_life_events": 10.0,
        # The current session: events with no pause longer than this before the newest; they
        # all weigh as the newest (0 = the newest event alone).
        "session_gap_minutes": 30.0,
        # Item-to-item candidates come from this many newest distinct history items.
        "seed_items": 20,
    },
    # "sources" comes from the source registry (recommender.engine.sources): see default_config.
    # ranker "auto": training fits a second-stage ranker over the fused candidates and serves it
    # when it beats this fusion on a validation split; "off": this fusion always serves.
    # fresh_share: at most this share of each list (rounded) is kept for the best candidates
    # that had no event when the serving model was trained (0 = off; engine.exploration).
    # fresh_max_loss: tuning serves the largest share, one place of training.k at a time, whose
    # NDCG@k loss on warm validation targets is at most this (relative); where tuning did not
    # run, no places are kept. 1 = no bound: the configured share serves unmeasured. The
    # validation loss on warm targets bounds the served loss: found fresh items add back.
    "fusion": {
        "method": "weighted",
        "rrf_k": 60,
        "ranker": "auto",
        "fresh_share": 0.2,
        "fresh_max_loss": 0.03,
    },
    "rules": {
        # Interaction types whose items are never recommended back to the user: "all" or a list
        # such as ["purchase"] (then viewed items may come back).
        "exclude_seen": "all",
        # [{"when": "category=Running", "factor": 1.5}, {"when": "attr.brand=Acme", ...}]
        "boosts": [],
        # 0 = no cap.
        "max_per_category": 0,
        # Maximal marginal relevance: 1.0 = relevance only (off); lower = more diverse.
        "mmr_lambda": 1.0,
    },
    "training": {
        "neighbours": 50,
        "test_fraction": 0.1,
        "eval_users": 1000,
        "k": 10,
        # "if_better": a trained version serves when nothing is active or its fused NDCG@k on
        # its hold-out is at least the active version's (per-slice figures are recorded beside;
        # see train._promote); "always": it serves at once.
        "promote": "if_better",
        # Retrain when this many hours passed since the last training and events arrived since
        # (checked hourly by the training sweep); 0 = only on request.
        "retrain_every_hours": 24,
        # Seconds of per-tenant tuning (fusion weights, ranker settings) on a validation split
        # carved from the training events; 0 = off. At most tuning_trials trials per study.
        "tuning_budget_s": 30.0,
        "tuning_trials": 40,
    },
}


def default_config() -> dict[str, Any]:
    """The whole default configuration: the fixed sections and every registered source's.

    A source is enabled when its weight is above 0; those marked always-trained (popular,
    trending) are trained whatever their weight, as /popular, /trending and cold users need them.
    """
    config: dict[str, Any] = {}
    for section, values in copy.deepcopy(_DEFAULT_SECTIONS).items():
        config[section] = values
        if section == "profile":  # where operators have always found it
            config["sources"] = {name: spec.defaults() for name, spec in SOURCE_SPECS.items()}
    return config


class ConfigError(ValueError):
    """Raised with every problem found: `errors` is a list of {"field": path, "message": ...}."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def merge_config(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` laid over `base`, section by section, as a deep copy: an override names only
    what it changes. `interactions.types` is replaced whole, so an override can drop a type."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "types":
            merged[key] = merge_config(merged[key], value)
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
    defaults = default_config()
    unknown = sorted(set(raw) - set(defaults))
    errors = [{"field": key, "message": "unknown section"} for key in unknown]
    config = merge_config(defaults, raw)

    encoder = config["encoder"]
    if not isinstance(encoder, dict):
        raise ConfigError([{"field": "encoder", "message": "must be an object"}])
    for key in sorted(set(encoder) - set(defaults["encoder"])):
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
    _check(
        errors,
        interactions.get("value_scale") in VALUE_SCALES,
        "interactions.value_scale",
        f"must be one of {', '.join(VALUE_SCALES)}",
    )
    max_weight = interactions.get("max_weight")
    _check(
        errors,
        _is_number(max_weight) and 0 < max_weight <= MAX_WEIGHT_LIMIT,
        "interactions.max_weight",
        f"must be a number above 0 and at most {MAX_WEIGHT_LIMIT:g}",
    )

    profile = config["profile"]
    weight = profile.get("text_weight")
    _check(
        errors,
        isinstance(weight, (int, float)) and not isinstance(weight, bool) and 0 <= weight <= 1,
        "profile.text_weight",
        "must be a number from 0 to 1",
    )
    rest = {key: value for key, value in profile.items() if key != "text_weight"}
    errors += _number_errors(
        rest,
        {
            "max_events": (int, 1, 10_000),
            "recent_half_life_events": (float, 0, 10_000),
            "session_gap_minutes": (float, 0, 7 * 24 * 60),
            "seed_items": (int, 1, 10_000),
        },
        "profile",
    )
    errors += _source_errors(config["sources"])
    errors += _fusion_errors(config["fusion"])
    errors += _rules_errors(config["rules"], config["interactions"].get("types"))
    errors += _training_errors(config["training"])
    if errors:
        raise ConfigError(errors)
    return config


def _is_number(value: Any, kind: type = float) -> bool:
    if isinstance(value, bool):
        return False
    if kind is int:
        return isinstance(value, int)
    return isinstance(value, (int, float))


def _number_errors(
    section: dict[str, Any], specs: dict[str, tuple[type, float, float]], path: str
) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for key, (kind, low, high) in specs.items():
        value: Any = section.get(key)
        noun = "an integer" if kind is int else "a number"
        _check(
            errors,
            _is_number(value, kind) and low <= value <= high,
            f"{path}.{key}",
            f"must be {noun} from {low:g} to {high:g}",
        )
    for key in sorted(set(section) - set(specs)):
        errors.append({"field": f"{path}.{key}", "message": "unknown setting"})
    return errors


def _source_errors(sources: Any) -> list[dict[str, str]]:
    if not isinstance(sources, dict):
        return [{"field": "sources", "message": "must be an object"}]
    names = list(SOURCE_SPECS)
    errors = [
        {"field": f"sources.{name}", "message": f"unknown source; use {names}"}
        for name in sorted(set(sources) - set(names))
    ]
    for name, spec in SOURCE_SPECS.items():
        settings = sources.get(name)
        if not isinstance(settings, dict):
            errors.append({"field": f"sources.{name}", "message": "must be an object"})
            continue
        specs = {"weight": WEIGHT, **spec.settings}
        errors += _number_errors(
            settings,
            {key: (s.kind, s.low, s.high) for key, s in specs.items()},
            f"sources.{name}",
        )
    if not errors and not any(sources[name]["weight"] > 0 for name in names):
        errors.append({"field": "sources", "message": "at least one source needs a weight > 0"})
    return errors


def _fusion_errors(fusion: Any) -> list[dict[str, str]]:
    if not isinstance(fusion, dict):
        return [{"field": "fusion", "message": "must be an object"}]
    errors: list[dict[str, str]] = []
    _check(
        errors,
        fusion.get("method") in ("weighted", "rrf"),
        "fusion.method",
        "must be weighted or rrf",
    )
    _check(errors, fusion.get("ranker") in ("auto", "off"), "fusion.ranker", "must be auto or off")
    rest = {key: value for key, value in fusion.items() if key not in ("method", "ranker")}
    return errors + _number_errors(
        rest,
        {
            "rrf_k": (int, 1, 10_000),
            "fresh_share": (float, 0.0, 0.5),
            "fresh_max_loss": (float, 0.0, 1.0),
        },
        "fusion",
    )


def _rules_errors(rules: Any, types: Any) -> list[dict[str, str]]:
    if not isinstance(rules, dict):
        return [{"field": "rules", "message": "must be an object"}]
    errors: list[dict[str, str]] = []
    seen = rules.get("exclude_seen")
    known = set(types) if isinstance(types, dict) else set()
    if seen == "all":
        pass
    elif not isinstance(seen, list) or not all(isinstance(t, str) for t in seen):
        errors.append(
            {"field": "rules.exclude_seen", "message": '"all" or a list of interaction types'}
        )
    else:
        for name in seen:
            if name not in known:
                errors.append(
                    {"field": "rules.exclude_seen", "message": f"unknown interaction type {name!r}"}
                )
    boosts = rules.get("boosts")
    if not isinstance(boosts, list):
        errors.append({"field": "rules.boosts", "message": "must be a list"})
    else:
        for n, boost in enumerate(boosts):
            path = f"rules.boosts[{n}]"
            if not isinstance(boost, dict) or set(boost) != {"when", "factor"}:
                errors.append({"field": path, "message": 'must be {"when": ..., "factor": ...}'})
                continue
            _check(
                errors,
                _is_number(boost["factor"]) and 0 < boost["factor"] <= 100,
                f"{path}.factor",
                "must be a number above 0 and at most 100",
            )
            try:
                parse_filter_text(str(boost["when"]))
            except FilterError as exc:
                errors += [{"field": f"{path}.when", "message": d["message"]} for d in exc.details]
    rest = {key: value for key, value in rules.items() if key not in ("exclude_seen", "boosts")}
    return errors + _number_errors(
        rest,
        {"max_per_category": (int, 0, 1000), "mmr_lambda": (float, 0.0, 1.0)},
        "rules",
    )


def _training_errors(training: Any) -> list[dict[str, str]]:
    if not isinstance(training, dict):
        return [{"field": "training", "message": "must be an object"}]
    errors: list[dict[str, str]] = []
    _check(
        errors,
        training.get("promote") in ("always", "if_better"),
        "training.promote",
        "must be always or if_better",
    )
    rest = {key: value for key, value in training.items() if key != "promote"}
    return errors + _number_errors(
        rest,
        {
            "neighbours": (int, 5, 500),
            "test_fraction": (float, 0.01, 0.5),
            "eval_users": (int, 10, 100_000),
            "k": (int, 1, 100),
            "retrain_every_hours": (float, 0, 24 * 365),
            "tuning_budget_s": (float, 0, 3600),
            "tuning_trials": (int, 1, 1000),
        },
        "training",
    )


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
