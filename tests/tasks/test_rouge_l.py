"""rouge-l: precision, recall and F_β of the longest common subsequence (LCS) of two token lists.

Oracle: the LCS length by brute force — every subsequence of the candidate, longest first, tested for being a
subsequence of the reference — and F_β from its closed form.
"""
import itertools
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, say

HINT = say(en="L = length of the longest common SUBSEQUENCE (same order, gaps allowed) by dynamic programming: "
              "dp[i][j] = dp[i-1][j-1] + 1 if a[i-1] == b[j-1] else max(dp[i-1][j], dp[i][j-1]). P = L / len(candidate), "
              "R = L / len(reference), F = (1 + β²)·P·R / (R + β²·P); all 0 when L = 0.",
           zh="用动态规划求最长公共子序列（顺序一致、允许间隔）的长度 L："
              "dp[i][j] = dp[i-1][j-1] + 1 if a[i-1] == b[j-1] else max(dp[i-1][j], dp[i][j-1])。P = L / len(candidate)，"
              "R = L / len(reference)，F = (1 + β²)·P·R / (R + β²·P)；L = 0 时全部为 0。")


FIELD = {"precision": say(en="Precision is L / len(candidate). ", zh="精确率是 L / len(candidate)。"),
         "recall": say(en="Recall is L / len(reference). ", zh="召回率是 L / len(reference)。"),
         "f": say(en="F = (1 + β²)·P·R / (R + β²·P). ", zh="F = (1 + β²)·P·R / (R + β²·P)。")}


def scores(n, candidate, reference, beta, swap=False, f_swapped=False):
    """(P, R, F) from a match count n, optionally with a known mistake in the formulas."""
    if n == 0:
        return 0.0, 0.0, 0.0
    p, r = n / len(candidate), n / len(reference)
    if swap:
        p, r = r, p
    f = (1 + beta ** 2) * p * r / ((beta ** 2 * r + p) if f_swapped else (r + beta ** 2 * p))
    return p, r, f


def greedy_count(candidate, reference):
    n, start = 0, 0
    for tok in candidate:
        for j in range(start, len(reference)):
            if reference[j] == tok:
                n, start = n + 1, j + 1
                break
    return n


def substring_count(a, b):
    return max((k for i in range(len(a)) for j in range(len(b))
                for k in range(1, min(len(a) - i, len(b) - j) + 1) if a[i:i + k] == b[j:j + k]), default=0)


MISTAKES = (
    ("greedy", say(en="a greedy left-to-right match (each candidate token takes the next occurrence in the reference); "
                      "find the LCS by dynamic programming over all prefix pairs.",
                   zh="从左到右贪心匹配（每个候选 token 取参考中下一次出现的位置）；应对所有前缀对做动态规划求 LCS。")),
    ("substring", say(en="the longest common SUBSTRING (contiguous); ROUGE-L uses the longest common SUBSEQUENCE "
                         "(gaps allowed).",
                      zh="用了最长公共子串（要求连续）；ROUGE-L 用的是最长公共子序列（允许间隔）。")),
    ("unigram", say(en="shared tokens counted regardless of order (unigram overlap, ROUGE-1); tokens must match IN ORDER.",
                    zh="不管顺序地统计共有 token（unigram 重叠，即 ROUGE-1）；token 必须按顺序匹配。")),
    ("swap", say(en="precision and recall are swapped; precision divides by len(candidate), recall by len(reference).",
                 zh="精确率和召回率弄反了；精确率除以 len(candidate)，召回率除以 len(reference)。")),
    ("f_swapped", say(en="β² on the wrong side, (1 + β²)·P·R / (β²·R + P), which weights precision; use "
                         "(1 + β²)·P·R / (R + β²·P).",
                      zh="β² 放错了位置，(1 + β²)·P·R / (β²·R + P) 加权的是精确率；应为 (1 + β²)·P·R / (R + β²·P)。")),
)


def cause_of(got, candidate, reference, beta, default):
    """The cause of the known mistake(s) whose (P, R, F) equal `got`, else `default`."""
    lcs = lcs_brute_force(candidate, reference)
    results = {"greedy": scores(greedy_count(candidate, reference), candidate, reference, beta),
               "substring": scores(substring_count(candidate, reference), candidate, reference, beta),
               "unigram": scores(sum((Counter(candidate) & Counter(reference)).values()), candidate, reference, beta),
               "swap": scores(lcs, candidate, reference, beta, swap=True),
               "f_swapped": scores(lcs, candidate, reference, beta, f_swapped=True)}
    right = oracle(candidate, reference, beta)
    hits = [c for name, c in MISTAKES if results[name] != right
            and all(abs(g - w) <= 1e-9 + 1e-9 * abs(w) for g, w in zip(got, results[name]))]
    if not hits:
        return default
    return say(en="Your result is exactly what a known mistake gives: " + " Or: ".join(c.en for c in hits),
               zh="你的结果与一个常见错误的结果完全一致：" + "或者：".join(c.zh for c in hits))


def is_subsequence(sub, seq):
    it = iter(seq)
    return all(tok in it for tok in sub)  # `in` advances the iterator: order is respected


def lcs_brute_force(a, b):
    for length in range(min(len(a), len(b)), 0, -1):
        if any(is_subsequence(sub, b) for sub in itertools.combinations(a, length)):
            return length
    return 0


def oracle(candidate, reference, beta=1.0):
    lcs = lcs_brute_force(candidate, reference)
    if lcs == 0:
        return 0.0, 0.0, 0.0
    p, r = lcs / len(candidate), lcs / len(reference)
    return p, r, (1 + beta ** 2) * p * r / (r + beta ** 2 * p)


def check(impl, candidate, reference, beta=None, hint=HINT):
    result = impl.rouge_l(candidate, reference) if beta is None else impl.rouge_l(candidate, reference, beta=beta)
    what = f"rouge_l({candidate}, {reference}{'' if beta is None else f', beta={beta}'})"
    expect(isinstance(result, tuple) and len(result) == 3,
           say(en=f"{what} should return a tuple (precision, recall, f), got {type(result).__name__}: {result!r:.200}",
               zh=f"{what} 应返回元组 (precision, recall, f)，实际得到 {type(result).__name__}：{result!r:.200}"))
    got = tuple(float(v) for v in result)
    b = 1.0 if beta is None else beta
    want = oracle(candidate, reference, b)
    names = {"precision": "精确率 precision", "recall": "召回率 recall", "f": "F 值 f"}
    for name, g, w in zip(("precision", "recall", "f"), got, want):
        if abs(g - w) <= 1e-9 + 1e-9 * abs(w):
            continue
        cause = cause_of(got, candidate, reference, b, FIELD[name] + hint)
        lcs = lcs_brute_force(candidate, reference)
        expect(False, say(en=f"{what}: {name} = {g:.6g}, expected {w:.6g} (the LCS has length {lcs}). {cause.en}",
                          zh=f"{what}：{names[name]} = {g:.6g}，应为 {w:.6g}（LCS 长度为 {lcs}）。{cause.zh}"))
    return got


def test_hand_example(impl):
    # LCS of "the cat sat on the mat" and "the cat was on a mat" is "the cat on mat": 4.
    cand = "the cat sat on the mat".split()
    ref = "the cat was on a mat".split()
    p, r, f = check(impl, cand, ref)
    expect(abs(p - 4 / 6) < 1e-9 and abs(r - 4 / 6) < 1e-9,
           say(en="LCS('the cat sat on the mat', 'the cat was on a mat') = 4 ('the cat on mat'), so P = 4/6 and "
                  f"R = 4/6; got P = {p:.4f}, R = {r:.4f}.",
               zh="LCS('the cat sat on the mat', 'the cat was on a mat') = 4（'the cat on mat'），所以 P = 4/6、"
                  f"R = 4/6；实际是 P = {p:.4f}，R = {r:.4f}。"))


def test_subsequence_not_substring(impl):
    # The longest common SUBSTRING is 1 token; the longest common subsequence is a, b, c (3 tokens with gaps).
    check(impl, list("abcd"), list("axbycz"),
          hint=say(en="ROUGE-L uses the longest common SUBSEQUENCE: 'a b c' matches in order with gaps (length 3); the "
                      "longest common substring (contiguous) is only 1. ",
                   zh="ROUGE-L 用的是最长公共子序列：'a b c' 按顺序、带间隔地匹配（长度 3）；最长公共子串（连续）只有 1。")
          + HINT)


def test_order_matters(impl):
    # Same bag of words, reversed order: unigram overlap is 5, the LCS only 1.
    check(impl, list("abcde"), list("edcba"),
          hint=say(en="Tokens must match IN ORDER: counting shared tokens (unigram overlap, ROUGE-1) ignores order. ",
                   zh="token 必须按顺序匹配：统计共有 token（unigram 重叠，即 ROUGE-1）忽略了顺序。") + HINT)


def test_precision_is_over_the_candidate(impl):
    cand, ref = list("ab"), list("axbyyyyy")
    p, r, _ = check(impl, cand, ref,
                    hint=say(en="Precision divides by the CANDIDATE's length, recall by the REFERENCE's. ",
                             zh="精确率除以候选的长度，召回率除以参考的长度。") + HINT)
    expect(p > r, say(en="for a short candidate fully contained in a long reference precision (1.0) must exceed recall "
                         f"(0.25); got P = {p}, R = {r}.",
                      zh=f"短候选完全包含在长参考中时，精确率（1.0）必须大于召回率（0.25）；实际是 P = {p}，R = {r}。"))


def test_beta_weights_recall(impl):
    cand, ref = list("abxyz"), list("ab")  # P = 2/5, R = 1
    for beta in (1.0, 2.0, 0.5):
        check(impl, cand, ref, beta=beta,
              hint=say(en="F_β = (1 + β²)·P·R / (R + β²·P): β² multiplies P in the denominator, so β > 1 favours recall. ",
                       zh="F_β = (1 + β²)·P·R / (R + β²·P)：分母中 β² 乘的是 P，所以 β > 1 偏向召回率。") + HINT)
    _, _, f_high = impl.rouge_l(cand, ref, beta=3.0)
    _, _, f_low = impl.rouge_l(cand, ref, beta=1.0)
    expect(float(f_high) > float(f_low),
           say(en=f"with recall 1 and precision 0.4 a larger β must raise F (β weights recall), got F = {float(f_low):.4f} "
                  f"at β = 1 and {float(f_high):.4f} at β = 3.",
               zh=f"召回率为 1、精确率为 0.4 时，更大的 β 必须让 F 变大（β 加权的是召回率），实际 β = 1 时 "
                  f"F = {float(f_low):.4f}，β = 3 时 F = {float(f_high):.4f}。"))


def test_no_common_token_gives_zeros(impl):
    got = check(impl, list("abc"), list("xyz"), hint=say(en="With LCS = 0 return (0.0, 0.0, 0.0), no division by zero.",
                                                         zh="LCS = 0 时返回 (0.0, 0.0, 0.0)，不要除以 0。"))
    expect(got == (0.0, 0.0, 0.0), say(en=f"rouge_l with no common token must return zeros, got {got}",
                                       zh=f"没有共同 token 时 rouge_l 必须返回全 0，实际是 {got}"))


def test_greedy_matching_is_not_enough(impl):
    # Greedily matching the candidate's first token 'b' with the reference's 'b' at the end gives 1; the LCS is 3.
    check(impl, list("bacd"), list("acdb"),
          hint=say(en="A greedy left-to-right match can lock in a bad early match; dynamic programming over all prefix "
                      "pairs finds the longest subsequence. ",
                   zh="从左到右的贪心匹配可能锁定一个糟糕的早期匹配；对所有前缀对做动态规划才能找到最长子序列。") + HINT)


def test_identical_sequences(impl):
    got = check(impl, "to be or not to be".split(), "to be or not to be".split())
    expect(all(abs(v - 1.0) < 1e-12 for v in got), say(en=f"identical sequences must score (1, 1, 1), got {got}",
                                                        zh=f"完全相同的序列得分必须是 (1, 1, 1)，实际是 {got}"))


@given(st.lists(st.sampled_from("abcd"), min_size=1, max_size=7),
       st.lists(st.sampled_from("abcd"), min_size=1, max_size=7),
       st.sampled_from([0.5, 1.0, 2.0]))
def test_property_against_brute_force(impl, candidate, reference, beta):
    check(impl, candidate, reference, beta=beta)
