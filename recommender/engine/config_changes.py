"""What differs between two configurations, and what a difference sets off.

Pure functions over configuration dicts (validated, so every section is present). The console's
diff of two versions and its "activation will re-encode / retrain" notice both read these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Encoder settings that change the vectors (the same as an embedding space's identity);
# precision, device and batch size change how fast vectors are made, not what they are.
ENCODING_KEYS = ("model", "pooling", "max_length", "normalize", "item_template", "user_template")
# Sections that training reads: a change serves only after a new model version is trained.
TRAINING_SECTIONS = ("interactions", "sources", "training")


@dataclass(frozen=True)
class Change:
    """One setting that differs: a dotted path, the value before and after (None: absent)."""

    path: str
    before: Any
    after: Any


def config_diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Every leaf setting that differs, in a stable order (sections and keys sorted)."""
    changes: list[Change] = []
    _walk(before, after, "", changes)
    return changes


def _walk(before: Any, after: Any, path: str, out: list[Change]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            _walk(before.get(key), after.get(key), f"{path}.{key}" if path else str(key), out)
    elif before != after:
        out.append(Change(path, before, after))


@dataclass(frozen=True)
class Consequences:
    """What activating `after` in place of `before` needs: re-encoding, retraining, and why."""

    reencode: list[str]
    retrain: list[str]


def activation_consequences(before: dict[str, Any], after: dict[str, Any]) -> Consequences:
    """The changed settings that need re-encoding (encoder identity) or retraining (the
    sections training reads; re-encoding also retrains, as text-aware sources fit on vectors)."""
    reencode, retrain = [], []
    for change in config_diff(before, after):
        section, _, key = change.path.partition(".")
        if section == "encoder" and key.split(".")[0] in ENCODING_KEYS:
            reencode.append(change.path)
        elif section in TRAINING_SECTIONS or change.path == "fusion.ranker":
            retrain.append(change.path)
    return Consequences(reencode=reencode, retrain=retrain)
