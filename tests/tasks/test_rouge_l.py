"""rouge-l: precision, recall and F_β of the longest common subsequence (LCS) of two token lists.

Oracle: the LCS length by brute force — every subsequence of the candidate, longest first, tested for being a
subsequence of the reference — and F_β from its closed form.
"""
import itertools

from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect

HINT = ("L = length of the longest common SUBSEQUENCE (same order, gaps allowed) by dynamic programming: "
        "dp[i][j] = dp[i-1][j-1] + 1 if a[i-1] == b[j-1] else max(dp[i-1][j], dp[i][j-1]). P = L / len(candidate), "
        "R = L / len(reference), F = (1 + β²)·P·R / (R + β²·P); all 0 when L = 0.")


FIELD = {"precision": "Precision is L / len(candidate).", "recall": "Recall is L / len(reference).",
         "f": "F = (1 + β²)·P·R / (R + β²·P)."}


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
           f"{what} should return a tuple (precision, recall, f), got {type(result).__name__}: {result!r:.200}")
    got = tuple(float(v) for v in result)
    want = oracle(candidate, reference, 1.0 if beta is None else beta)
    for name, g, w in zip(("precision", "recall", "f"), got, want):
        expect(abs(g - w) <= 1e-9 + 1e-9 * abs(w),
               f"{what}: {name} = {g:.6g}, expected {w:.6g} (the LCS has length "
               f"{lcs_brute_force(candidate, reference)}). {FIELD[name]} {hint}")
    return got


def test_hand_example(impl):
    # LCS of "the cat sat on the mat" and "the cat was on a mat" is "the cat on mat": 4.
    cand = "the cat sat on the mat".split()
    ref = "the cat was on a mat".split()
    p, r, f = check(impl, cand, ref)
    expect(abs(p - 4 / 6) < 1e-9 and abs(r - 4 / 6) < 1e-9,
           f"LCS('the cat sat on the mat', 'the cat was on a mat') = 4 ('the cat on mat'), so P = 4/6 and R = 4/6; "
           f"got P = {p:.4f}, R = {r:.4f}.")


def test_subsequence_not_substring(impl):
    # The longest common SUBSTRING is 1 token; the longest common subsequence is a, b, c (3 tokens with gaps).
    check(impl, list("abcd"), list("axbycz"),
          hint="ROUGE-L uses the longest common SUBSEQUENCE: 'a b c' matches in order with gaps (length 3); the "
               "longest common substring (contiguous) is only 1. " + HINT)


def test_order_matters(impl):
    # Same bag of words, reversed order: unigram overlap is 5, the LCS only 1.
    check(impl, list("abcde"), list("edcba"),
          hint="Tokens must match IN ORDER: counting shared tokens (unigram overlap, ROUGE-1) ignores order. " + HINT)


def test_precision_is_over_the_candidate(impl):
    cand, ref = list("ab"), list("axbyyyyy")
    p, r, _ = check(impl, cand, ref,
                    hint="Precision divides by the CANDIDATE's length, recall by the REFERENCE's. " + HINT)
    expect(p > r, f"for a short candidate fully contained in a long reference precision (1.0) must exceed recall "
                  f"(0.25); got P = {p}, R = {r}.")


def test_beta_weights_recall(impl):
    cand, ref = list("abxyz"), list("ab")  # P = 2/5, R = 1
    for beta in (1.0, 2.0, 0.5):
        check(impl, cand, ref, beta=beta,
              hint="F_β = (1 + β²)·P·R / (R + β²·P): β² multiplies P in the denominator, so β > 1 favours recall. "
                   + HINT)
    _, _, f_high = impl.rouge_l(cand, ref, beta=3.0)
    _, _, f_low = impl.rouge_l(cand, ref, beta=1.0)
    expect(float(f_high) > float(f_low),
           f"with recall 1 and precision 0.4 a larger β must raise F (β weights recall), got F = {float(f_low):.4f} "
           f"at β = 1 and {float(f_high):.4f} at β = 3.")


def test_no_common_token_gives_zeros(impl):
    got = check(impl, list("abc"), list("xyz"), hint="With LCS = 0 return (0.0, 0.0, 0.0), no division by zero.")
    expect(got == (0.0, 0.0, 0.0), f"rouge_l with no common token must return zeros, got {got}")


def test_greedy_matching_is_not_enough(impl):
    # Greedily matching the candidate's first token 'b' with the reference's 'b' at the end gives 1; the LCS is 3.
    check(impl, list("bacd"), list("acdb"),
          hint="A greedy left-to-right match can lock in a bad early match; dynamic programming over all prefix "
               "pairs finds the longest subsequence. " + HINT)


def test_identical_sequences(impl):
    got = check(impl, "to be or not to be".split(), "to be or not to be".split())
    expect(all(abs(v - 1.0) < 1e-12 for v in got), f"identical sequences must score (1, 1, 1), got {got}")


@given(st.lists(st.sampled_from("abcd"), min_size=1, max_size=7),
       st.lists(st.sampled_from("abcd"), min_size=1, max_size=7),
       st.sampled_from([0.5, 1.0, 2.0]))
def test_property_against_brute_force(impl, candidate, reference, beta):
    check(impl, candidate, reference, beta=beta)
