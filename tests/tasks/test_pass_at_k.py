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

from genprep.learner.checks import expect, say

HINT = say(en="pass@k = 1 − C(n − c, k) / C(n, k), and 1.0 when n − c < k. For large n compute the ratio as a product, "
              "Π_{i=n−c+1}^{n} (1 − k/i), or with exact integers — never as floats of huge binomials or factorials.",
           zh="pass@k = 1 − C(n − c, k) / C(n, k)，n − c < k 时为 1.0。n 很大时要把比值写成乘积 "
              "Π_{i=n−c+1}^{n} (1 − k/i)，或者用精确整数计算——绝不要用浮点数去算巨大的二项式系数或阶乘。")
BIASED = say(en="1 − (1 − c/n)^k, the estimator that samples WITH replacement and is biased; the k samples are drawn "
                "WITHOUT replacement from the n generated ones: 1 − C(n − c, k)/C(n, k).",
             zh="算成了 1 − (1 − c/n)^k，这是有放回抽样的有偏估计；k 个样本是从生成的 n 个中【无放回】抽取的："
                "1 − C(n − c, k)/C(n, k)。")
OFF_BY_ONE = say(en="the product over i = n − c … n has one factor too many; it runs over i = n − c + 1 … n.",
                 zh="乘积取在 i = n − c … n 上，多了一个因子；应取 i = n − c + 1 … n。")


def mistake_cause(got, n, c, k, default):
    """The known mistake whose value `got` is, else `default`."""
    biased = 1.0 - (1.0 - c / n) ** k
    candidates = [(biased, BIASED)]
    if n - c >= k:
        prod = 1.0
        for i in range(n - c, n + 1):
            prod *= 1.0 - k / i
        candidates.append((1.0 - prod, OFF_BY_ONE))
    want = float(exact(n, c, k))
    for value, cause in candidates:
        if abs(value - want) > 1e-9 and abs(got - value) <= 1e-9 + 1e-7 * abs(value):
            return say(en="Your value is exactly what a known mistake gives: " + cause.en,
                       zh="你的值与一个常见错误的结果完全一致：" + cause.zh)
    if abs(got - want) < 2e-6 * max(abs(want), 1e-3):
        return say(en="Your value is off by about float32's rounding (a relative 1e-7): compute in double precision — "
                      "Python floats, math.lgamma or exact integers — not in float32 tensors (e.g. torch.lgamma on "
                      "float32).",
                   zh="你的值差了大约 float32 的舍入误差（相对 1e-7）：要用双精度计算——Python float、math.lgamma "
                      "或精确整数——不要用 float32 张量（例如对 float32 调用 torch.lgamma）。")
    return default


def exact(n, c, k):
    """The estimator as an exact fraction (math.comb(n − c, k) is 0 when n − c < k)."""
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


def call(impl, n, c, k):
    got = impl.pass_at_k(n, c, k)
    expect(isinstance(got, float),
           say(en=f"pass_at_k({n}, {c}, {k}) must return a Python float, got {type(got).__name__} {got!r} — "
                  "convert with float(...) (not a tensor, not a Fraction).",
               zh=f"pass_at_k({n}, {c}, {k}) 必须返回 Python float，实际得到 {type(got).__name__} {got!r}——"
                  "用 float(...) 转换（不要返回张量或 Fraction）。"))
    return got


def check(impl, n, c, k, hint=HINT, rtol=1e-7, atol=1e-9):
    got = call(impl, n, c, k)
    want = exact(n, c, k)
    if abs(got - float(want)) <= atol + rtol * float(want):
        return
    cause = mistake_cause(got, n, c, k, hint)
    expect(False, say(en=f"pass_at_k(n={n}, c={c}, k={k}) returned {got!r}, expected {float(want)!r} "
                         f"(= 1 − C({n - c}, {k})/C({n}, {k})). {cause.en}",
                      zh=f"pass_at_k(n={n}, c={c}, k={k}) 返回 {got!r}，应为 {float(want)!r}"
                         f"（= 1 − C({n - c}, {k})/C({n}, {k})）。{cause.zh}"))


def test_small_cases_against_fractions(impl):
    for n, c, k in [(5, 2, 3), (10, 3, 1), (10, 3, 4), (20, 1, 10), (200, 7, 10), (200, 180, 5), (100, 50, 50)]:
        check(impl, n, c, k)


def test_not_the_biased_estimator(impl):
    # n = 5, c = 2, k = 3: the unbiased value is 1 − C(3, 3)/C(5, 3) = 0.9; 1 − (1 − c/n)^k = 0.784.
    got = call(impl, 5, 2, 3)
    cause = mistake_cause(got, 5, 2, 3, say(en="The k samples are drawn WITHOUT replacement from the n generated ones. "
                                               + HINT.en,
                                            zh="k 个样本是从生成的 n 个中【无放回】抽取的。" + HINT.zh))
    expect(abs(got - 0.9) < 1e-12,
           say(en=f"pass_at_k(5, 2, 3) returned {got!r}, expected 0.9 = 1 − C(3, 3)/C(5, 3) = 1 − 1/10. {cause.en}",
               zh=f"pass_at_k(5, 2, 3) 返回 {got!r}，应为 0.9 = 1 − C(3, 3)/C(5, 3) = 1 − 1/10。{cause.zh}"))


def test_edge_values(impl):
    check(impl, 10, 0, 3, hint=say(en="No correct sample: pass@k is 0.", zh="没有正确的样本：pass@k 为 0。"))
    check(impl, 10, 10, 3, hint=say(en="All samples correct: pass@k is 1.", zh="样本全部正确：pass@k 为 1。"))
    check(impl, 10, 8, 3, hint=say(en="n − c = 2 < k = 3: every 3-subset contains a correct sample, so pass@k is 1.0.",
                                   zh="n − c = 2 < k = 3：每个 3 元子集都包含正确样本，所以 pass@k 为 1.0。"))
    for c in (0, 3, 10):
        check(impl, 10, c, 1, hint=say(en="pass@1 is simply c / n.", zh="pass@1 就是 c / n。"))
    check(impl, 10, 1, 10, hint=say(en="k = n: the single subset is all samples, so any correct sample gives 1.",
                                    zh="k = n：唯一的子集就是全部样本，只要有一个正确样本结果就是 1。"))


def test_large_n_without_overflow(impl):
    cases = [(10_000, 1, 1), (10_000, 1, 100), (10_000, 37, 100), (10_000, 100, 5000), (10_000, 2, 9_999),
             (10_000, 9_990, 20), (10_000, 3000, 1000)]
    for n, c, k in cases:
        try:
            got = call(impl, n, c, k)
        except (OverflowError, ZeroDivisionError, ValueError) as err:
            expect(False, say(en=f"pass_at_k({n}, {c}, {k}) raised {type(err).__name__}: {err} — C(10⁴, 5000) has "
                                 f"about 3000 digits and overflows a float. {HINT.en}",
                              zh=f"pass_at_k({n}, {c}, {k}) 抛出了 {type(err).__name__}：{err}——C(10⁴, 5000) 约有 "
                                 f"3000 位数字，会让浮点数溢出。{HINT.zh}"))
        want = exact(n, c, k)
        cause = mistake_cause(got, n, c, k, say(
            en="With n = 10⁴ the binomials are astronomically large: float32 or log-gamma in single precision loses "
               "the answer. " + HINT.en,
            zh="n = 10⁴ 时二项式系数大得惊人：用 float32 或单精度的 log-gamma 会丢掉答案。" + HINT.zh))
        expect(math.isfinite(got) and abs(got - float(want)) <= 1e-9 + 1e-7 * float(want),
               say(en=f"pass_at_k({n}, {c}, {k}) returned {got!r}, expected {float(want)!r}. {cause.en}",
                   zh=f"pass_at_k({n}, {c}, {k}) 返回 {got!r}，应为 {float(want)!r}。{cause.zh}"))


def test_matches_exhaustive_enumeration_of_subsets(impl):
    # The definition: the fraction of k-subsets of the n samples that contain at least one correct sample.
    for n, c, k in [(6, 2, 2), (7, 1, 3), (8, 3, 4), (6, 4, 2)]:
        samples = [True] * c + [False] * (n - c)
        subsets = list(itertools.combinations(range(n), k))
        frac = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
        got = call(impl, n, c, k)
        cause = mistake_cause(got, n, c, k, HINT)
        expect(abs(got - frac) < 1e-12,
               say(en=f"pass_at_k({n}, {c}, {k}) returned {got!r}, but {frac:.12g} of the {len(subsets)} subsets of "
                      f"{k} samples contain a correct one. {cause.en}",
                   zh=f"pass_at_k({n}, {c}, {k}) 返回 {got!r}，但在 {len(subsets)} 个 {k} 元样本子集中，"
                      f"包含正确样本的比例是 {frac:.12g}。{cause.zh}"))


def test_monte_carlo_over_random_subsets(impl):
    rng = random.Random(0)
    n, c, k, draws = 50, 5, 10, 4000
    hits = sum(any(i < c for i in rng.sample(range(n), k)) for _ in range(draws))
    estimate = hits / draws
    got = call(impl, n, c, k)
    sigma = math.sqrt(estimate * (1 - estimate) / draws)
    cause = mistake_cause(got, n, c, k, HINT)
    expect(abs(got - estimate) < 5 * sigma + 1e-3,
           say(en=f"pass_at_k(50, 5, 10) returned {got:.4f}, but drawing 10 of the 50 samples without replacement "
                  f"{draws} times found a correct one in {estimate:.4f} of the draws (±{sigma:.4f}). {cause.en}",
               zh=f"pass_at_k(50, 5, 10) 返回 {got:.4f}，但从 50 个样本中无放回地抽取 10 个、重复 {draws} 次，"
                  f"有 {estimate:.4f} 的抽取包含正确样本（±{sigma:.4f}）。{cause.zh}"))


@given(st.integers(1, 60), st.data())
def test_property_against_fractions(impl, n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    check(impl, n, c, k)
