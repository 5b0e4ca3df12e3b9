"""Exploration of fresh items: a share of each list kept for items the model has no behaviour
for, so that new items the language model finds relevant reach users before their first events
(collaborative sources and a ranker trained on past events rank them below warm items)."""

from collections.abc import Collection, Sequence
from typing import TypeVar

Item = TypeVar("Item")


def fresh_slots(share: float, count: int) -> int:
    """How many of `count` places a share reserves (rounded half up; 0 when share is 0)."""
    return int(share * count + 0.5) if share > 0 else 0


def reserve_fresh(
    served: Sequence[Item],
    fresh_pool: Sequence[Item],
    fresh: Collection[Item],
    slots: int,
    count: int,
) -> list[Item]:
    """`served` (rank order) holding at least `slots` fresh items where the pool has them.

    Fresh items already served count toward the slots; the best others of `fresh_pool` (rank
    order) take the last places of warm items, which keeps the head of the list as ranked.
    """
    head = list(served[:count])
    have = sum(1 for item in head if item in fresh)
    taken = set(head)
    extra = [item for item in fresh_pool if item not in taken][: max(0, slots - have)]
    if not extra:
        return head
    warm_places = max(0, count - len(extra) - have)
    kept: list[Item] = []
    warm = 0
    for item in head:
        if item in fresh:
            kept.append(item)
        elif warm < warm_places:
            kept.append(item)
            warm += 1
    return (kept + extra)[:count]
