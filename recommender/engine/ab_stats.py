"""Statistics of an A/B test over proportions: the rates of each variant, the relative lift of a
variant over the control with a 95% interval, a two-proportion z-test, and a sample-ratio-mismatch
check of the units each variant got against the configured shares.

Pure functions over counts (no Django). The formulas, so a result can be checked by hand:

- rate p = successes / trials.
- Relative lift L = p_v / p_c - 1. Its 95% interval comes from the log of the rate ratio, whose
  standard error (delta method) is sqrt((1 - p_c) / (n_c p_c) + (1 - p_v) / (n_v p_v)):
  [exp(ln(p_v / p_c) - 1.96 se) - 1, exp(ln(p_v / p_c) + 1.96 se) - 1]. Undefined (None) when
  either rate is 0.
- Two-proportion z-test with the pooled rate p = (x_c + x_v) / (n_c + n_v):
  z = (p_v - p_c) / sqrt(p (1 - p) (1 / n_c + 1 / n_v)); two-sided p-value = erfc(|z| / sqrt 2).
- Sample-ratio mismatch: chi-square = sum over variants of (observed - N share)^2 / (N share),
  k - 1 degrees of freedom; a p-value under SRM_ALPHA flags a broken assignment or logging.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import chi2

Z_95 = 1.959963984540054
# Below these counts a variant's rate is too noisy to act on: the results page warns.
MIN_TRIALS = 100
MIN_SUCCESSES = 10
# The usual threshold for sample-ratio mismatch: strict, as real mismatches are large.
SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Comparison:
    """A variant's rate against the control's."""

    lift: float | None
    lift_low: float | None
    lift_high: float | None
    z: float | None
    p_value: float | None


@dataclass(frozen=True)
class SampleRatio:
    """Observed units per variant against the configured shares."""

    expected: tuple[float, ...]
    chi_square: float
    p_value: float
    mismatch: bool


def rate(successes: int, trials: int) -> float | None:
    """successes / trials; None without trials."""
    _check_counts(successes, trials)
    return successes / trials if trials else None


def relative_lift(
    control: tuple[int, int], variant: tuple[int, int]
) -> tuple[float | None, float | None, float | None]:
    """(lift, low, high) of the variant's rate over the control's, each (successes, trials);
    None where a rate is 0 or undefined."""
    (x_c, n_c), (x_v, n_v) = control, variant
    p_c, p_v = rate(x_c, n_c), rate(x_v, n_v)
    if not p_c or not p_v:
        return None, None, None
    log_ratio = math.log(p_v / p_c)
    se = math.sqrt((1 - p_c) / (n_c * p_c) + (1 - p_v) / (n_v * p_v))
    return (
        p_v / p_c - 1,
        math.exp(log_ratio - Z_95 * se) - 1,
        math.exp(log_ratio + Z_95 * se) - 1,
    )


def two_proportion_z(
    control: tuple[int, int], variant: tuple[int, int]
) -> tuple[float | None, float | None]:
    """(z, two-sided p-value) of the pooled two-proportion test; None when undefined (no trials
    on a side, or a pooled rate of 0 or 1)."""
    (x_c, n_c), (x_v, n_v) = control, variant
    _check_counts(x_c, n_c)
    _check_counts(x_v, n_v)
    if not n_c or not n_v:
        return None, None
    pooled = (x_c + x_v) / (n_c + n_v)
    if pooled in (0.0, 1.0):
        return None, None
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_v))
    z = (x_v / n_v - x_c / n_c) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def compare(control: tuple[int, int], variant: tuple[int, int]) -> Comparison:
    """Lift with its interval and the z-test of `variant` against `control`."""
    lift, low, high = relative_lift(control, variant)
    z, p_value = two_proportion_z(control, variant)
    return Comparison(lift, low, high, z, p_value)


def sample_ratio(observed: Sequence[int], shares: Sequence[float]) -> SampleRatio:
    """Chi-square goodness of fit of `observed` units per variant to `shares` (normalised)."""
    if len(observed) != len(shares) or len(observed) < 2:
        raise ValueError("one observed count and one share per variant, two variants or more")
    if any(n < 0 for n in observed) or any(s <= 0 for s in shares):
        raise ValueError("counts must be >= 0 and shares > 0")
    total, weight = sum(observed), float(sum(shares))
    expected = tuple(total * s / weight for s in shares)
    if total == 0:
        return SampleRatio(expected, 0.0, 1.0, False)
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    p_value = float(chi2.sf(statistic, len(observed) - 1))
    return SampleRatio(expected, statistic, p_value, p_value < SRM_ALPHA)


def too_small(successes: int, trials: int) -> bool:
    """Whether a variant's counts are too few to read its rate (the results page warns)."""
    return trials < MIN_TRIALS or successes < MIN_SUCCESSES


def _check_counts(successes: int, trials: int) -> None:
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
