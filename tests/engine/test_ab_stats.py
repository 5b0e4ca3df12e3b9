"""A/B statistics against values worked out by hand on a small case.

Control: 20 conversions in 200 lists (p_c = 0.10); variant: 30 in 200 (p_v = 0.15).
- lift = 0.15 / 0.10 - 1 = 0.5
- se(ln ratio) = sqrt(0.9 / (200 x 0.1) + 0.85 / (200 x 0.15)) = sqrt(0.045 + 0.028333)
  = sqrt(0.073333) = 0.270801; ln 1.5 = 0.405465
- interval: exp(0.405465 -/+ 1.959964 x 0.270801) - 1 = exp(-0.125295) - 1, exp(0.936225) - 1
  = -0.117764, 1.550338
- pooled p = 50 / 400 = 0.125; se = sqrt(0.125 x 0.875 x (1/200 + 1/200)) = 0.0330719
- z = (0.15 - 0.10) / 0.0330719 = 1.511858; p = erfc(1.511858 / sqrt 2) = 0.130570
"""

import pytest

from recommender.engine import ab_stats

CONTROL = (20, 200)
VARIANT = (30, 200)


def test_lift_and_interval_equal_the_hand_computed_values() -> None:
    lift, low, high = ab_stats.relative_lift(CONTROL, VARIANT)
    assert lift == pytest.approx(0.5)
    assert low == pytest.approx(-0.117764, abs=1e-6)
    assert high == pytest.approx(1.550338, abs=1e-6)


def test_z_test_equals_the_hand_computed_values() -> None:
    z, p_value = ab_stats.two_proportion_z(CONTROL, VARIANT)
    assert z == pytest.approx(1.511858, abs=1e-6)
    assert p_value == pytest.approx(0.130570, abs=1e-6)
    # Swapping the sides flips z, not the two-sided p-value.
    z_back, p_back = ab_stats.two_proportion_z(VARIANT, CONTROL)
    assert z_back == pytest.approx(-1.511858, abs=1e-6)
    assert p_back == pytest.approx(p_value)


def test_compare_bundles_lift_and_test() -> None:
    result = ab_stats.compare(CONTROL, VARIANT)
    assert (result.lift, result.z) == (pytest.approx(0.5), pytest.approx(1.511858, abs=1e-6))
    assert result.lift_low is not None
    assert result.lift_low < 0 < result.lift_high  # type: ignore[operator]
    assert result.p_value is not None
    assert result.p_value > 0.05


@pytest.mark.parametrize(
    ("control", "variant"),
    [((0, 100), (5, 100)), ((5, 100), (0, 100)), ((0, 0), (5, 100))],
)
def test_lift_is_undefined_on_a_zero_rate(
    control: tuple[int, int], variant: tuple[int, int]
) -> None:
    assert ab_stats.relative_lift(control, variant) == (None, None, None)


def test_z_is_undefined_without_variation() -> None:
    assert ab_stats.two_proportion_z((0, 100), (0, 100)) == (None, None)
    assert ab_stats.two_proportion_z((100, 100), (50, 50)) == (None, None)
    assert ab_stats.two_proportion_z((0, 0), (1, 10)) == (None, None)


def test_sample_ratio_by_hand() -> None:
    # 520 / 480 at 50/50: expected 500 each; chi2 = 400/500 + 400/500 = 1.6, p(df 1) = 0.205903.
    fine = ab_stats.sample_ratio([520, 480], [0.5, 0.5])
    assert fine.expected == (500.0, 500.0)
    assert fine.chi_square == pytest.approx(1.6)
    assert fine.p_value == pytest.approx(0.205903, abs=1e-6)
    assert not fine.mismatch
    # 300 / 330 / 370 at equal shares: chi2 = (33.33^2 + 3.33^2 + 36.67^2) / 333.33 = 7.4;
    # with 2 degrees of freedom the tail is exactly exp(-7.4 / 2) = 0.024724.
    three = ab_stats.sample_ratio([300, 330, 370], [1, 1, 1])
    assert three.chi_square == pytest.approx(7.4)
    assert three.p_value == pytest.approx(0.024724, abs=1e-6)
    # 600 / 400 at 50/50: chi2 = 40, p ~ 2.5e-10: a mismatch.
    broken = ab_stats.sample_ratio([600, 400], [50, 50])
    assert broken.chi_square == pytest.approx(40.0)
    assert broken.mismatch


def test_sample_ratio_uses_unequal_shares() -> None:
    # 90/10 split observed 900/100 is on target; 500/500 is far off.
    assert not ab_stats.sample_ratio([900, 100], [0.9, 0.1]).mismatch
    assert ab_stats.sample_ratio([500, 500], [0.9, 0.1]).mismatch
    assert ab_stats.sample_ratio([0, 0], [1, 1]).p_value == 1.0


@pytest.mark.parametrize(
    ("observed", "shares"), [([1], [1.0]), ([1, 2], [1.0]), ([1, -1], [1, 1]), ([1, 1], [1, 0])]
)
def test_sample_ratio_refuses_bad_input(observed: list[int], shares: list[float]) -> None:
    with pytest.raises(ValueError):
        ab_stats.sample_ratio(observed, shares)


def test_small_samples_are_flagged() -> None:
    assert ab_stats.too_small(20, 99)
    assert ab_stats.too_small(9, 5000)
    assert not ab_stats.too_small(10, 100)


def test_counts_are_checked() -> None:
    with pytest.raises(ValueError):
        ab_stats.rate(5, 3)
    assert ab_stats.rate(0, 0) is None
    assert ab_stats.rate(1, 4) == 0.25
