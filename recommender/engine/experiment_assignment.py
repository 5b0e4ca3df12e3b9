"""Stable assignment of users to the variants of an A/B test.

A user's bucket is a hash of the experiment's id and the user's id, read as a number in [0, 1);
variants own consecutive ranges of it in proportion to their shares. The same user gets the same
variant on every request and every process, and two experiments split users independently.
"""

import hashlib
from collections.abc import Sequence


def bucket(experiment_id: int, user_id: str) -> float:
    """The user's place in [0, 1) for this experiment: the first 8 bytes of SHA-256 of
    "<experiment_id>:<user_id>" over 2**64."""
    digest = hashlib.sha256(f"{experiment_id}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment_id: int, user_id: str, shares: Sequence[float]) -> int:
    """The index of the variant whose range holds the user's bucket (shares are relative)."""
    if not shares or any(share <= 0 for share in shares):
        raise ValueError("every variant needs a positive share")
    point = bucket(experiment_id, user_id) * float(sum(shares))
    edge = 0.0
    for index, share in enumerate(shares):
        edge += share
        if point < edge:
            return index
    return len(shares) - 1  # rounding at the top edge
