"""Fresh-item places in a list: how many, which items, and where."""

import math

from recommender.engine.exploration import fresh_slots, reserve_fresh
from recommender.engine.fusion_learning import UserCase, choose_fresh_share
from recommender.engine.ranker import UserContext


def test_slots_round_half_up_and_zero_is_off() -> None:
    assert [fresh_slots(0.2, n) for n in (1, 2, 3, 5, 10, 20)] == [0, 0, 1, 1, 2, 4]
    assert fresh_slots(0.0, 10) == 0
    assert fresh_slots(0.5, 1) == 1


def test_the_best_fresh_take_the_last_warm_places() -> None:
    served = ["a", "b", "c", "d", "e"]
    pool = ["x", "y", "z"]  # fresh candidates, best first
    assert reserve_fresh(served, pool, {"x", "y", "z"}, 2, 5) == ["a", "b", "c", "x", "y"]


def test_fresh_items_already_served_count_and_keep_their_place() -> None:
    served = ["a", "x", "b", "c", "d"]
    fresh = {"x", "y"}
    assert reserve_fresh(served, ["x", "y"], fresh, 2, 5) == ["a", "x", "b", "c", "y"]
    assert reserve_fresh(served, ["x", "y"], fresh, 1, 5) == served


def test_a_short_list_is_extended_not_cut() -> None:
    assert reserve_fresh(["a", "b"], ["x"], {"x"}, 2, 5) == ["a", "b", "x"]


def test_without_fresh_candidates_the_list_is_unchanged() -> None:
    assert reserve_fresh(["a", "b", "c"], [], set(), 2, 3) == ["a", "b", "c"]


def _case(user: int, relevant: set[int]) -> UserCase:
    return UserCase(user, {}, frozenset(relevant), UserContext([], 0.0))


def test_the_share_is_chosen_by_its_warm_ndcg_cost_on_validation() -> None:
    # k = 2; items 1-4 are warm, 10 and 11 fresh. One place for a fresh item displaces user 1's
    # hit at rank 2 (NDCG 1/log2(3) -> 0) and costs user 2 nothing (hit at rank 1).
    orders = [[1, 2, 10], [3, 4, 11]]
    cases = [_case(1, {2}), _case(2, {3, 11})]
    warm = frozenset({1, 2, 3, 4})
    base = (1 / math.log2(3) + 1.0) / 2
    with_place = (0.0 + 1.0) / 2
    chosen, report = choose_fresh_share(orders, cases, warm, most=0.5, max_loss=0.5, k=2)
    assert chosen == 0.5
    assert report["warm_ndcg"] == {"0": round(base, 4), "0.5": round(with_place, 4)}
    loss = (base - with_place) / base  # 0.387
    chosen, report = choose_fresh_share(orders, cases, warm, most=0.5, max_loss=0.3, k=2)
    assert chosen == 0.0
    assert loss > 0.3
    assert "more than 30%" in report["reason"]


def test_shares_are_tried_one_place_at_a_time_from_the_most() -> None:
    orders = [[1, 2, 3, 4, 10, 11]]
    cases = [_case(1, {4})]  # any fresh place displaces the hit at rank 4; none the one at 1
    warm = frozenset({1, 2, 3, 4})
    chosen, report = choose_fresh_share(orders, cases, warm, most=0.5, max_loss=0.0, k=4)
    assert list(report["warm_ndcg"]) == ["0", "0.5", "0.25"]
    assert chosen == 0.0
    orders = [[4, 1, 2, 3, 10, 11]]
    chosen, _ = choose_fresh_share(orders, cases, warm, most=0.5, max_loss=0.0, k=4)
    assert chosen == 0.5
