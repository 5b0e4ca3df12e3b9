"""The per-process cache behind serving's remembered states, ranking tops and filter sizes."""

import time

from recommender.services.serving.process_cache import ProcessCache


def test_a_value_is_computed_once_and_the_least_recently_used_goes_first() -> None:
    cache: ProcessCache[str] = ProcessCache(max_entries=2)
    calls: list[str] = []

    def compute(key: str) -> str:
        calls.append(key)
        return key.upper()

    assert cache.get_or_compute("a", lambda: compute("a")) == "A"
    assert cache.get_or_compute("b", lambda: compute("b")) == "B"
    assert cache.get_or_compute("a", lambda: compute("a")) == "A"  # a is now the most recent
    assert cache.get_or_compute("c", lambda: compute("c")) == "C"  # b goes
    assert cache.get_or_compute("a", lambda: compute("a")) == "A"
    assert cache.get_or_compute("b", lambda: compute("b")) == "B"
    assert calls == ["a", "b", "c", "b"]


def test_values_older_than_their_time_to_live_are_computed_again() -> None:
    cache: ProcessCache[int] = ProcessCache(max_entries=8, ttl_s=0.05)
    counter = iter(range(10))
    first = cache.get_or_compute("k", lambda: next(counter))
    assert cache.get_or_compute("k", lambda: next(counter)) == first
    time.sleep(0.08)
    assert cache.get_or_compute("k", lambda: next(counter)) == first + 1
