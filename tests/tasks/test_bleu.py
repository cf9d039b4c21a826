"""bleu: corpus-level BLEU with clipped n-gram precisions pooled over the corpus and the brevity penalty.

Oracles: the worked examples of Papineni et al. (2002) — the clipping example "the the the …" and Example 1, whose
modified precisions 17/18, 10/17, 8/14 and 1/13 the paper states — and a brute-force implementation with exact
fractions that counts every n-gram by scanning all positions.
"""
import math
import random
from fractions import Fraction

from genprep.learner.checks import expect, say, usual_cause

HINT = say(en="For each n: p_n = Σ over candidates of Σ over the candidate's n-grams of min(count in candidate, MAX "
              "count in any single reference) / Σ over candidates of (number of candidate n-grams), pooled over the "
              "whole corpus. BLEU = BP · exp(mean_n log p_n), 0 if some p_n = 0; BP = exp(1 − r/c) if c < r else 1, "
              "c = total candidate length, r = Σ of each candidate's closest reference length (ties → the shorter).",
           zh="对每个 n：p_n = Σ(所有候选) Σ(候选的 n-gram) min(候选中的次数, 在任一单个参考中的最大次数) / "
              "Σ(所有候选) (候选的 n-gram 个数)，在整个语料上汇总。BLEU = BP · exp(mean_n log p_n)，若某个 p_n = 0 则为 "
              "0；c < r 时 BP = exp(1 − r/c)，否则为 1，c 为候选总长度，r 为每个候选最接近的参考长度之和"
              "（距离相同取较短的）。")

CLIP_CAND = "the the the the the the the".split()
CLIP_REFS = ["the cat is on the mat".split(), "there is a cat on the mat".split()]
EX1_CAND1 = "it is a guide to action which ensures that the military always obeys the commands of the party".split()
EX1_CAND2 = "it is to insure the troops forever hearing the activity guidebook that party direct".split()
EX1_REFS = ["it is a guide to action that ensures that the military will forever heed party commands".split(),
            "it is the guiding principle which guarantees the military forces always being under the command of the "
            "party".split(),
            "it is the practical guide for the army always to heed the directions of the party".split()]


def count(seq, gram):
    """How often the tuple `gram` occurs in seq, by scanning every position."""
    n = len(gram)
    return sum(1 for i in range(len(seq) - n + 1) if tuple(seq[i:i + n]) == gram)


def oracle(candidates, references, max_n=4):
    matched, total = [0] * max_n, [0] * max_n
    c = r = 0
    for cand, refs in zip(candidates, references):
        c += len(cand)
        r += sorted(refs, key=lambda ref: (abs(len(ref) - len(cand)), len(ref)))[0].__len__()
        for n in range(1, max_n + 1):
            grams = {tuple(cand[i:i + n]) for i in range(len(cand) - n + 1)}
            matched[n - 1] += sum(min(count(cand, g), max(count(ref, g) for ref in refs)) for g in grams)
            total[n - 1] += len(cand) - n + 1
    if min(matched) == 0:
        return 0.0
    precisions = [Fraction(m, t) for m, t in zip(matched, total)]
    bp = 1.0 if c >= r else math.exp(1 - r / c)
    return bp * math.exp(sum(math.log(p) for p in precisions) / max_n)


def variant(candidates, references, max_n, clip="max", mean="geometric", ref_len="closest"):
    """BLEU computed with one of the usual mistakes (clip by the summed count or not at all, arithmetic mean,
    shortest reference)."""
    matched, total = [0] * max_n, [0] * max_n
    c = r = 0
    for cand, refs in zip(candidates, references):
        c += len(cand)
        r += (min(len(ref) for ref in refs) if ref_len == "shortest" else
              len(sorted(refs, key=lambda ref: (abs(len(ref) - len(cand)), len(ref)))[0]))
        for n in range(1, max_n + 1):
            grams = {tuple(cand[i:i + n]) for i in range(len(cand) - n + 1)}
            for g in grams:
                limit = {"max": max(count(ref, g) for ref in refs), "sum": sum(count(ref, g) for ref in refs),
                         "none": count(cand, g) if any(count(ref, g) for ref in refs) else 0}[clip]
                matched[n - 1] += min(count(cand, g), limit)
            total[n - 1] += len(cand) - n + 1
    bp = 1.0 if c >= r else math.exp(1 - r / c)
    if mean == "arithmetic":
        return bp * sum(m / t for m, t in zip(matched, total)) / max_n
    if min(matched) == 0:
        return 0.0
    return bp * math.exp(sum(math.log(Fraction(m, t)) for m, t in zip(matched, total)) / max_n)


def likely_bleu_mistakes(candidates, references, max_n):
    """What the usual BLEU mistakes give, each with its cause."""
    return ((variant(candidates, references, max_n, clip="none"),
             say(en="candidate n-gram counts not clipped; clip each by its maximum count in any single reference.",
                 zh="候选 n-gram 的次数没有截断；每个都要截断到它在任一单个参考中出现的最大次数。")),
            (variant(candidates, references, max_n, clip="sum"),
             say(en="counts clipped by the count summed over all references; clip by the MAXIMUM count in any single "
                    "reference.",
                 zh="用所有参考中的次数之和来截断；应截断到在任一单个参考中的最大次数。")),
            (variant(candidates, references, max_n, mean="arithmetic"),
             say(en="the arithmetic mean of the precisions; BLEU takes their geometric mean, exp(mean_n log p_n).",
                 zh="对各阶精确率取了算术平均；BLEU 取几何平均：exp(mean_n log p_n)。")),
            (variant(candidates, references, max_n, ref_len="shortest"),
             say(en="the brevity penalty with the shortest reference; use each candidate's CLOSEST reference length "
                    "(ties → the shorter).",
                 zh="简短惩罚用了最短的参考；应使用与每个候选长度最接近的参考长度（距离相同取较短的）。")),
            (sum(oracle([cand], [refs], max_n) for cand, refs in zip(candidates, references)) / len(candidates),
             say(en="the mean of sentence-level BLEU scores; pool the clipped matches, n-gram counts and lengths over "
                    "the whole corpus first.",
                 zh="对句子级 BLEU 取了平均；应先在整个语料上汇总截断后的匹配数、n-gram 总数和长度。")))


def call(impl, candidates, references, max_n=None):
    got = (impl.corpus_bleu(candidates, references) if max_n is None
           else impl.corpus_bleu(candidates, references, max_n=max_n))
    expect(isinstance(got, float), say(en=f"corpus_bleu must return a Python float, got {type(got).__name__} {got!r:.100}",
                                       zh=f"corpus_bleu 必须返回 Python float，实际是 {type(got).__name__} {got!r:.100}"))
    return got


def check(impl, candidates, references, max_n, want, what, hint=HINT):
    got = call(impl, candidates, references, max_n)
    ok = abs(got - want) <= 1e-9 + 1e-9 * abs(want)
    cause = hint if ok else usual_cause(got, likely_bleu_mistakes(candidates, references, max_n or 4), hint,
                                        atol=1e-9, rtol=1e-9)
    expect(ok, say(en=f"{what.en}: corpus_bleu returned {got:.8g}, expected {want:.8g}. {cause.en}",
                   zh=f"{what.zh}：corpus_bleu 返回 {got:.8g}，应为 {want:.8g}。{cause.zh}"))


def test_clipping_example_of_papineni(impl):
    # "the" occurs 7 times in the candidate but at most twice in any one reference: modified precision 2/7.
    check(impl, [CLIP_CAND], [CLIP_REFS], 1, 2 / 7,
          say(en="the clipping example 'the the the the the the the' (max_n=1)",
              zh="截断的例子 'the the the the the the the'（max_n=1）"),
          hint=say(en="Clip each candidate n-gram count by its MAXIMUM count in any single reference: 'the' counts "
                      "min(7, 2) = 2, so p_1 = 2/7 (without clipping it would be 7/7). The closest reference has 7 "
                      "tokens, so BP = 1.",
                   zh="每个候选 n-gram 的次数要截断到它在任一单个参考中的最大次数：'the' 计为 min(7, 2) = 2，所以 "
                      "p_1 = 2/7（不截断就是 7/7）。最接近的参考有 7 个 token，所以 BP = 1。"))
    check(impl, [CLIP_CAND], [CLIP_REFS], 2, 0.0,
          say(en="the clipping example with max_n=2 (no bigram 'the the' in any reference)",
              zh="max_n=2 时的截断例子（任何参考中都没有二元组 'the the'）"),
          hint=say(en="A zero modified precision for some n makes BLEU 0.0.",
                   zh="只要某个 n 的修正精确率为 0，BLEU 就是 0.0。"))


def test_example_1_of_papineni(impl):
    # Candidate 1: p_1 = 17/18, p_2 = 10/17, length 18 with a reference of length 18, so BP = 1.
    check(impl, [EX1_CAND1], [EX1_REFS], 1, 17 / 18,
          say(en="Papineni et al.'s Example 1, candidate 1, max_n=1 (modified unigram precision 17/18)",
              zh="Papineni 等人的例 1，候选 1，max_n=1（修正一元精确率 17/18）"))
    check(impl, [EX1_CAND1], [EX1_REFS], 2, math.sqrt(17 / 18 * 10 / 17),
          say(en="Papineni et al.'s Example 1, candidate 1, max_n=2 (geometric mean of 17/18 and 10/17)",
              zh="Papineni 等人的例 1，候选 1，max_n=2（17/18 与 10/17 的几何平均）"),
          hint=say(en="Geometric mean with uniform weights: exp((log p_1 + log p_2) / 2), not the arithmetic mean. "
                      + HINT.en,
                   zh="等权重的几何平均：exp((log p_1 + log p_2) / 2)，不是算术平均。" + HINT.zh))
    # Candidate 2: p_1 = 8/14; 14 tokens, closest reference 16 tokens: BP = exp(1 − 16/14).
    check(impl, [EX1_CAND2], [EX1_REFS], 1, math.exp(1 - 16 / 14) * 8 / 14,
          say(en="Papineni et al.'s Example 1, candidate 2, max_n=1 (p_1 = 8/14; 14 tokens against a closest "
                 "reference of 16)",
              zh="Papineni 等人的例 1，候选 2，max_n=1（p_1 = 8/14；14 个 token，最接近的参考有 16 个）"),
          hint=say(en="The brevity penalty uses the reference length CLOSEST to the candidate's (16, not 18): "
                      "BP = exp(1 − 16/14).",
                   zh="简短惩罚使用与候选长度最接近的参考长度（16，不是 18）：BP = exp(1 − 16/14)。"))


def test_precisions_are_pooled_over_the_corpus(impl):
    # Pooled: p_1 = (17 + 8)/(18 + 14), p_2 = (10 + 1)/(17 + 13); c = 32, r = 18 + 16 = 34.
    want = math.exp(1 - 34 / 32) * math.sqrt(25 / 32 * 11 / 30)
    check(impl, [EX1_CAND1, EX1_CAND2], [EX1_REFS, EX1_REFS], 2, want,
          say(en="corpus of Papineni et al.'s two Example 1 candidates, max_n=2",
              zh="由 Papineni 等人例 1 的两个候选组成的语料，max_n=2"),
          hint=say(en="Corpus BLEU adds up the clipped matches and the n-gram counts of ALL candidates before dividing "
                      "(p_1 = 25/32, p_2 = 11/30), and the brevity penalty uses the total lengths (c = 32, r = 34); "
                      "it is not the mean of the sentence-level BLEU scores. (r = 18 + 16: each candidate's CLOSEST "
                      "reference length.)",
                   zh="语料级 BLEU 先把所有候选的截断匹配数和 n-gram 个数分别加总再相除（p_1 = 25/32，p_2 = 11/30），"
                      "简短惩罚也用总长度（c = 32，r = 34）；它不是句子级 BLEU 的平均。"
                      "（r = 18 + 16：每个候选最接近的参考长度。）"))


def test_clip_by_the_largest_count_in_one_reference(impl):
    # "the" appears once in each reference: the clip is max(1, 1) = 1, not 1 + 1 = 2.
    cand = "the the the cat".split()
    refs = ["the cat sat".split(), "the dog sat".split()]
    check(impl, [cand], [refs], 1, 0.5,
          say(en="corpus_bleu(['the the the cat'], refs ['the cat sat', 'the dog sat'], max_n=1)",
              zh="corpus_bleu(['the the the cat'], refs ['the cat sat', 'the dog sat'], max_n=1)"),
          hint=say(en="The clip is the MAXIMUM count of the n-gram in any single reference (here 1), not the sum over "
                      "the references (2): p_1 = (1 + 1)/4.",
                   zh="截断值是该 n-gram 在任一单个参考中的最大次数（这里是 1），不是在所有参考中的次数之和（2）："
                      "p_1 = (1 + 1)/4。"))


def test_brevity_penalty_uses_the_closest_reference(impl):
    cand = "a b c d e f g h".split()  # 8 tokens; references of 5 and 9 tokens: the closest is 9
    refs = ["a b c d e".split(), "a b c d e f g h i".split()]
    check(impl, [cand], [refs], 1, math.exp(1 - 9 / 8),
          say(en="corpus_bleu(8-token candidate, references of 5 and 9 tokens, max_n=1)",
              zh="corpus_bleu(8 个 token 的候选，参考分别有 5 和 9 个 token，max_n=1)"),
          hint=say(en="r is the reference length CLOSEST to the candidate's (9), not the shortest (5) or the longest: "
                      "c = 8 < r = 9, so BP = exp(1 − 9/8).",
                   zh="r 是与候选长度最接近的参考长度（9），不是最短的（5），也不是最长的：c = 8 < r = 9，所以 "
                      "BP = exp(1 − 9/8)。"))
    tie = "a b c d e".split()  # 5 tokens; references of 4 and 6 tokens: a tie, resolved to the shorter (4)
    check(impl, [tie], [["a b c d".split(), "a b c d e x".split()]], 1, 1.0,
          say(en="corpus_bleu(5-token candidate, references of 4 and 6 tokens, max_n=1)",
              zh="corpus_bleu(5 个 token 的候选，参考分别有 4 和 6 个 token，max_n=1)"),
          hint=say(en="On a tie (4 and 6 are both 1 away from 5) take the SHORTER reference: r = 4 ≤ c = 5, so BP = 1.",
                   zh="距离相同时（4 和 6 与 5 都相差 1）取较短的参考：r = 4 ≤ c = 5，所以 BP = 1。"))


def test_brevity_penalty_is_corpus_level(impl):
    # Candidate 1 is 2 tokens too long, candidate 2 one token too short: c = 7 + 4 = 11 ≥ r = 5 + 5 = 10, so BP = 1.
    cands = ["a b c d e f g".split(), "a b c d".split()]
    refs = [["a b c d e".split()], ["a b c d e".split()]]
    check(impl, cands, refs, 1, 9 / 11,
          say(en="corpus_bleu(two candidates of 7 and 4 tokens, references of 5, max_n=1)",
              zh="corpus_bleu(两个候选分别有 7 和 4 个 token，参考都是 5 个，max_n=1)"),
          hint=say(en="The brevity penalty compares TOTAL lengths over the corpus (c = 11, r = 10): a long candidate "
                      "compensates a short one, so BP = 1 and BLEU = p_1 = 9/11.",
                   zh="简短惩罚比较的是整个语料的总长度（c = 11，r = 10）：长的候选可以弥补短的候选，所以 BP = 1，"
                      "BLEU = p_1 = 9/11。"))


def test_identical_corpus_scores_one(impl):
    cands = ["the cat sat on the mat".split(), "a b c d e".split()]
    check(impl, cands, [[c] for c in cands], 4, 1.0,
          say(en="corpus_bleu of a corpus against itself", zh="语料与自身比较的 corpus_bleu"))


def test_random_corpora_against_brute_force(impl):
    rng = random.Random(0)
    nonzero = 0
    for case in range(40):
        max_n = rng.choice([1, 2, 3, 4])
        vocab = "ab" if max_n >= 3 else "abc"
        cands, refs = [], []
        for _ in range(rng.randint(1, 3)):
            cands.append([rng.choice(vocab) for _ in range(rng.randint(max_n, 8))])
            refs.append([[rng.choice(vocab) for _ in range(rng.randint(2, 9))] for _ in range(rng.randint(1, 3))])
        want = oracle(cands, refs, max_n)
        nonzero += want > 0
        check(impl, cands, refs, max_n, want,
              say(en=f"random corpus {case}: candidates {cands}, references {refs}, max_n={max_n}",
                  zh=f"随机语料 {case}：候选 {cands}，参考 {refs}，max_n={max_n}"))
    assert nonzero >= 20, "the random corpora should mostly have non-zero BLEU"


def test_default_max_n_is_4(impl):
    cands = ["the cat sat on the mat today".split()]
    refs = [["the cat sat on a mat today".split(), "a cat sat on the mat".split()]]
    check(impl, cands, refs, None, oracle(cands, refs, 4),
          say(en="corpus_bleu(cands, refs) with the default max_n", zh="使用默认 max_n 的 corpus_bleu(cands, refs)"))
