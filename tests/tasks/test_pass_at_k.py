"""pass-at-k: the unbiased estimator 1 − C(n − c, k)/C(n, k) of Chen et al., as a Python float.

Oracles: exact rational arithmetic with `fractions` and `math.comb` (big integers, no overflow), exhaustive
enumeration of every k-subset for small n, and Monte Carlo over random subsets.
"""
import itertools
import math
import random
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect

HINT = ("pass@k = 1 − C(n − c, k) / C(n, k), and 1.0 when n − c < k. For large n compute the ratio as a product, "
        "Π_{i=n−c+1}^{n} (1 − k/i), or with exact integers — never as floats of huge binomials or factorials.")


def exact(n, c, k):
    """The estimator as an exact fraction (math.comb(n − c, k) is 0 when n − c < k)."""
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


def call(impl, n, c, k):
    got = impl.pass_at_k(n, c, k)
    expect(isinstance(got, float),
           f"pass_at_k({n}, {c}, {k}) must return a Python float, got {type(got).__name__} {got!r} — "
           "convert with float(...) (not a tensor, not a Fraction).")
    return got


def check(impl, n, c, k, hint=HINT, rtol=1e-7, atol=1e-9):
    got = call(impl, n, c, k)
    want = exact(n, c, k)
    expect(abs(got - float(want)) <= atol + rtol * float(want),
           f"pass_at_k(n={n}, c={c}, k={k}) returned {got!r}, expected {float(want)!r} "
           f"(= 1 − C({n - c}, {k})/C({n}, {k})). {hint}")


def test_small_cases_against_fractions(impl):
    for n, c, k in [(5, 2, 3), (10, 3, 1), (10, 3, 4), (20, 1, 10), (200, 7, 10), (200, 180, 5), (100, 50, 50)]:
        check(impl, n, c, k)


def test_not_the_biased_estimator(impl):
    # n = 5, c = 2, k = 3: the unbiased value is 1 − C(3, 3)/C(5, 3) = 0.9; 1 − (1 − c/n)^k = 0.784.
    got = call(impl, 5, 2, 3)
    expect(abs(got - 0.9) < 1e-12,
           f"pass_at_k(5, 2, 3) returned {got!r}, expected 0.9 = 1 − C(3, 3)/C(5, 3) = 1 − 1/10. "
           + ("That is 1 − (1 − c/n)^k, the estimator that samples WITH replacement and is biased; "
              if abs(got - 0.784) < 1e-9 else "")
           + "The k samples are drawn WITHOUT replacement from the n generated ones. " + HINT)


def test_edge_values(impl):
    check(impl, 10, 0, 3, hint="No correct sample: pass@k is 0.")
    check(impl, 10, 10, 3, hint="All samples correct: pass@k is 1.")
    check(impl, 10, 8, 3, hint="n − c = 2 < k = 3: every 3-subset contains a correct sample, so pass@k is 1.0.")
    for c in (0, 3, 10):
        check(impl, 10, c, 1, hint="pass@1 is simply c / n.")
    check(impl, 10, 1, 10, hint="k = n: the single subset is all samples, so any correct sample gives 1.")


def test_large_n_without_overflow(impl):
    cases = [(10_000, 1, 1), (10_000, 1, 100), (10_000, 37, 100), (10_000, 100, 5000), (10_000, 2, 9_999),
             (10_000, 9_990, 20), (10_000, 3000, 1000)]
    for n, c, k in cases:
        try:
            got = call(impl, n, c, k)
        except (OverflowError, ZeroDivisionError, ValueError) as err:
            expect(False, f"pass_at_k({n}, {c}, {k}) raised {type(err).__name__}: {err} — C(10⁴, 5000) has about "
                          f"3000 digits and overflows a float. {HINT}")
        want = exact(n, c, k)
        expect(math.isfinite(got) and abs(got - float(want)) <= 1e-9 + 1e-7 * float(want),
               f"pass_at_k({n}, {c}, {k}) returned {got!r}, expected {float(want)!r}. With n = 10⁴ the binomials "
               "are astronomically large: float32 or log-gamma in single precision loses the answer. " + HINT)


def test_matches_exhaustive_enumeration_of_subsets(impl):
    # The definition: the fraction of k-subsets of the n samples that contain at least one correct sample.
    for n, c, k in [(6, 2, 2), (7, 1, 3), (8, 3, 4), (6, 4, 2)]:
        samples = [True] * c + [False] * (n - c)
        subsets = list(itertools.combinations(range(n), k))
        frac = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
        got = call(impl, n, c, k)
        expect(abs(got - frac) < 1e-12,
               f"pass_at_k({n}, {c}, {k}) returned {got!r}, but {frac:.12g} of the {len(subsets)} subsets of "
               f"{k} samples contain a correct one. {HINT}")


def test_monte_carlo_over_random_subsets(impl):
    rng = random.Random(0)
    n, c, k, draws = 50, 5, 10, 4000
    hits = sum(any(i < c for i in rng.sample(range(n), k)) for _ in range(draws))
    estimate = hits / draws
    got = call(impl, n, c, k)
    sigma = math.sqrt(estimate * (1 - estimate) / draws)
    expect(abs(got - estimate) < 5 * sigma + 1e-3,
           f"pass_at_k(50, 5, 10) returned {got:.4f}, but drawing 10 of the 50 samples without replacement "
           f"{draws} times found a correct one in {estimate:.4f} of the draws (±{sigma:.4f}). {HINT}")


@given(st.integers(1, 60), st.data())
def test_property_against_fractions(impl, n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    check(impl, n, c, k)
