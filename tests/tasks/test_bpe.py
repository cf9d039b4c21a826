"""bpe: byte-pair encoding, training and encoding.

The classic example is worked out by hand below (Sennrich et al. 2016, arXiv:1508.07909), following the
contract's tie-breaking rule; a brute-force pair counter written here re-derives every merge of any corpus.
"""
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, say

END = "</w>"
HINT = say(en="Split each word into characters + '</w>'; count every adjacent pair, weighted by the word's count; merge "
              "the pair with the highest count (ties: the smallest pair, min over (-count, pair)) in every word; repeat.",
           zh="把每个词拆成字符再加上 '</w>'；统计每一对相邻符号，按词频加权；在每个词里合并次数最多的那一对"
              "（并列时取最小的那对，即对 (-count, pair) 取 min）；重复。")

CLASSIC = {"low": 5, "lower": 2, "newest": 6, "widest": 3}

# Worked by hand. Initial symbols: l o w </w> ×5, l o w e r </w> ×2, n e w e s t </w> ×6, w i d e s t </w> ×3.
CLASSIC_MERGES = [
    ("e", "s"),          # 9 = 6 (newest) + 3 (widest); ties with (s,t), (t,</w>) at 9: ('e','s') is smallest
    ("es", "t"),         # 9; ties with (t,</w>) at 9: 'es' < 't'
    ("est", END),        # 9
    ("l", "o"),          # 7 = 5 + 2; ties with (o,w) at 7
    ("lo", "w"),         # 7
    ("e", "w"),          # 6; ties with (n,e) and (w,est</w>) at 6: 'e' < 'n' < 'w'
    ("ew", "est" + END),  # 6; ties with (n,ew): 'ew' < 'n'
    ("n", "ewest" + END),  # 6
    ("low", END),        # 5
    ("d", "est" + END),  # 3; ties with (w,i), (i,d): 'd' < 'i' < 'w'
    ("i", "dest" + END),  # 3; ties with (w,i)
    ("w", "idest" + END),  # 3
    ("e", "r"),          # 2; ties with (low,e), (r,</w>): 'e' < 'l' < 'r'
    ("er", END),         # 2; ties with (low,er): 'er' < 'low'
    ("low", "er" + END),  # 2; after this every word is one symbol
]


def merge_all(symbols, pair):
    """Brute force: scan left to right, merging non-overlapping occurrences of `pair`."""
    out, skip = [], False
    for i, s in enumerate(symbols):
        if skip:
            skip = False
        elif i + 1 < len(symbols) and (s, symbols[i + 1]) == pair:
            out.append(s + symbols[i + 1])
            skip = True
        else:
            out.append(s)
    return out


def pair_counts(seg, word_counts, weighted=True, every=True):
    """Adjacent-pair counts; weighted=False ignores the word counts, every=False counts a pair once per word."""
    counts = {}
    for w, symbols in seg.items():
        pairs = [(symbols[i], symbols[i + 1]) for i in range(len(symbols) - 1)]
        for p in (pairs if every else set(pairs)):
            counts[p] = counts.get(p, 0) + (word_counts[w] if weighted else 1)
    return counts


def best(counts):
    return min(counts, key=lambda p: (-counts[p], p)) if counts else None


def wrong_merge_cause(pair, seg, word_counts, counts):
    """The usual cause of choosing `pair` instead of the right merge (a Msg), or an empty Msg."""
    no_end = {w: s[:-1] if s[-1] == END else s for w, s in seg.items()}
    if pair == best(pair_counts(no_end, word_counts)):
        return say(en=" It is the top pair when words have no end-of-word symbol: split each word into characters + "
                      "'</w>', so that word-final pieces differ from word-internal ones.",
                   zh="没有词尾符号时它才是次数最多的一对：每个词要拆成字符再加上 '</w>'，这样词尾的片段才能与词中的"
                      "片段区分开。")
    if counts.get(pair, -1) == max(counts.values()):
        return say(en=" It ties with the expected pair: break ties by the SMALLEST pair (min over (-count, pair)), not by "
                      "the order in which pairs were first seen.",
                   zh="它与应选的那对次数相同：并列时要取最小的那对（对 (-count, pair) 取 min），而不是先出现的那对。")
    if pair == best(pair_counts(seg, word_counts, weighted=False)):
        return say(en=" It is the top pair when word counts are ignored: weight each pair's count by its word's count.",
                   zh="忽略词频时它才是次数最多的一对：每对的次数要按所在词的词频加权。")
    if pair == best(pair_counts(seg, word_counts, every=False)):
        return say(en=" It is the top pair when a pair counts once per word: count EVERY adjacent occurrence "
                      "('aaaa' holds (a, a) three times).",
                   zh="每个词里同一对只计一次时它才是次数最多的一对：要统计每一次相邻出现（'aaaa' 里有三次 (a, a)）。")
    if pair not in counts:
        return say(en=" That pair is not two adjacent CURRENT symbols of any word: merge symbol by symbol (a list), "
                      "not by string replacement, and keep '</w>' as the last symbol.",
                   zh="它在任何词里都不是两个相邻的当前符号：要按符号（列表）合并，而不是做字符串替换，并保留 '</w>' "
                      "作为最后一个符号。")
    return say(en="", zh="")


def replay(word_counts, merges, num_merges):
    """Re-derive every merge with a brute-force counter; returns None if all agree, else a message (Msg)."""
    seg = {w: list(w) + [END] for w in word_counts}
    for k, pair in enumerate(merges):
        counts = pair_counts(seg, word_counts)
        if not counts:
            return say(en=f"merge {k + 1} is {pair}, but no pair is left after {k} merges — stop early.",
                       zh=f"第 {k + 1} 次合并是 {pair}，但 {k} 次合并之后已经没有可合并的对了——应提前停止。")
        top = max(counts.values())
        expected = sorted(p for p, c in counts.items() if c == top)[0]
        if tuple(pair) != expected:
            tied = sorted(p for p, c in counts.items() if c == top)
            cause = wrong_merge_cause(tuple(pair), seg, word_counts, counts)
            return say(en=f"merge {k + 1} is {tuple(pair)} (count {counts.get(tuple(pair), 0)}), expected {expected} "
                          f"(count {top}; pairs with that count: {tied}).{cause.en}",
                       zh=f"第 {k + 1} 次合并是 {tuple(pair)}（次数 {counts.get(tuple(pair), 0)}），应为 {expected}"
                          f"（次数 {top}；次数相同的对：{tied}）。{cause.zh}")
        seg = {w: merge_all(s, expected) for w, s in seg.items()}
    left = any(len(s) > 1 for s in seg.values())
    if len(merges) < num_merges and left:
        return say(en=f"only {len(merges)} merges for num_merges={num_merges}, but pairs are still left.",
                   zh=f"num_merges={num_merges} 时只做了 {len(merges)} 次合并，但仍有可合并的对。")
    if len(merges) > num_merges:
        return say(en=f"{len(merges)} merges returned for num_merges={num_merges}.",
                   zh=f"num_merges={num_merges} 时返回了 {len(merges)} 次合并。")
    return None


def check_types(merges, what):
    expect(isinstance(merges, list) and all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(s, str) for s in p)
                                            for p in merges),
           say(en=f"{what} should return a list of (str, str) tuples, got {merges!r:.300}",
               zh=f"{what} 应返回由 (str, str) 元组组成的列表，实际是 {merges!r:.300}"))


def test_classic_example(impl):
    counts = dict(CLASSIC)
    merges = impl.bpe_train(counts, 10)
    what = "bpe_train({'low': 5, 'lower': 2, 'newest': 6, 'widest': 3}, 10)"
    check_types(merges, what)
    if merges != CLASSIC_MERGES[:10]:
        first = replay(CLASSIC, merges, 10) or say(en="", zh="")
        expect(False, say(en=f"{what} returned {merges}; expected {CLASSIC_MERGES[:10]}. First mismatch: {first.en} "
                             f"{HINT.en}",
                          zh=f"{what} 返回了 {merges}；应为 {CLASSIC_MERGES[:10]}。第一处不一致：{first.zh}{HINT.zh}"))
    expect(counts == CLASSIC, say(en="bpe_train modified the word_counts dictionary passed in; work on a copy.",
                                  zh="bpe_train 修改了传入的 word_counts 字典；请在副本上操作。"))


def test_classic_example_stops_when_no_pair_is_left(impl):
    merges = impl.bpe_train(dict(CLASSIC), 100)
    what = "bpe_train(classic example, num_merges=100)"
    check_types(merges, what)
    expect(merges == CLASSIC_MERGES,
           say(en=f"{what} returned {len(merges)} merges {merges}; after the 15 merges {CLASSIC_MERGES} every word is a "
                  f"single symbol, so training must stop there. {HINT.en}",
               zh=f"{what} 返回了 {len(merges)} 次合并 {merges}；经过 15 次合并 {CLASSIC_MERGES} 之后每个词都只剩一个"
                  f"符号，训练必须在这里停止。{HINT.zh}"))


def test_pair_counts_are_weighted_and_count_every_occurrence(impl):
    merges = impl.bpe_train({"ab": 1, "cd": 2}, 1)
    expect(merges == [("c", "d")],
           say(en=f"bpe_train({{'ab': 1, 'cd': 2}}, 1) returned {merges}; (c, d) occurs in a word seen twice, so its "
                  "count is 2 and it wins over (a, b) with count 1 — weight pair counts by word counts.",
               zh=f"bpe_train({{'ab': 1, 'cd': 2}}, 1) 返回了 {merges}；(c, d) 所在的词出现两次，所以它的次数是 2，"
                  "胜过次数为 1 的 (a, b)——对的次数要按词频加权。"))
    merges = impl.bpe_train({"aaaa": 1, "bc": 3}, 2)
    expect(merges == [("a", "a"), ("b", "c")],
           say(en=f"bpe_train({{'aaaa': 1, 'bc': 3}}, 2) returned {merges}, expected [('a', 'a'), ('b', 'c')]: 'aaaa' "
                  "has three adjacent (a, a) pairs, so (a, a) has count 3, tying (b, c) and (c, '</w>') and winning as "
                  "the smallest pair; after merging, 'aaaa' is aa aa </w>. Count EVERY adjacent occurrence.",
               zh=f"bpe_train({{'aaaa': 1, 'bc': 3}}, 2) 返回了 {merges}，应为 [('a', 'a'), ('b', 'c')]：'aaaa' 里有三个"
                  "相邻的 (a, a)，所以 (a, a) 的次数是 3，与 (b, c)、(c, '</w>') 并列，并作为最小的那对胜出；合并后 "
                  "'aaaa' 变成 aa aa </w>。要统计每一次相邻出现。"))


def test_encode_classic_words(impl):
    cases = {"lowest": ["low", "est" + END], "newer": ["n", "ew", "er" + END], "widest": ["widest" + END],
             "lower": ["lower" + END], "newest": ["newest" + END], "low": ["low" + END], "x": ["x", END]}
    for word, want in cases.items():
        got = impl.bpe_encode(word, list(CLASSIC_MERGES))
        expect(got == want,
               say(en=f"bpe_encode({word!r}, classic merges) returned {got}, expected {want}. Apply the merges one after "
                      "another in training order, each to every non-overlapping occurrence, left to right. The word "
                      "ends with the symbol '</w>'.",
                   zh=f"bpe_encode({word!r}, 经典例子的合并) 返回了 {got}，应为 {want}。按训练顺序逐条应用合并，每条都"
                      "从左到右作用于所有不重叠的出现。词以符号 '</w>' 结尾。"))


def test_merges_apply_in_training_order(impl):
    for merges, want in (([("b", "c"), ("a", "b")], ["a", "bc", END]), ([("a", "b"), ("b", "c")], ["ab", "c", END])):
        got = impl.bpe_encode("abc", merges)
        expect(got == want,
               say(en=f"bpe_encode('abc', {merges}) returned {got}, expected {want}: apply merges in the order given; a "
                      "merge only joins two CURRENT symbols (after 'ab' is formed, 'b' is no longer a symbol).",
                   zh=f"bpe_encode('abc', {merges}) 返回了 {got}，应为 {want}：按给定顺序应用合并；一次合并只连接两个"
                      "当前符号（'ab' 形成之后，'b' 就不再是一个符号）。"))


def test_merges_do_not_overlap(impl):
    for word, merges, want in (("aaa", [("a", "a")], ["aa", "a", END]),
                               ("aaaa", [("a", "a")], ["aa", "aa", END]),
                               ("aaa", [("a", "a"), ("aa", "a")], ["aaa", END]),
                               ("aaa", [("a", END)], ["a", "a", "a" + END])):
        got = impl.bpe_encode(word, merges)
        expect(got == want,
               say(en=f"bpe_encode({word!r}, {merges}) returned {got}, expected {want}: merge non-overlapping "
                      "occurrences scanning left to right.",
                   zh=f"bpe_encode({word!r}, {merges}) 返回了 {got}，应为 {want}：从左到右扫描，合并不重叠的出现。"))


corpus = st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=6), st.integers(1, 5), min_size=1, max_size=5)


@given(corpus, st.integers(0, 12), st.lists(st.text(alphabet="abcd", min_size=1, max_size=7), max_size=3))
def test_property_brute_force_counter_agrees(impl, word_counts, num_merges, other_words):
    merges = impl.bpe_train(dict(word_counts), num_merges)
    what = f"bpe_train({word_counts}, {num_merges})"
    check_types(merges, what)
    problem = replay(word_counts, merges, num_merges)
    expect(problem is None, say(en=f"{what} returned {merges}: {problem.en if problem else ''} {HINT.en}",
                                zh=f"{what} 返回了 {merges}：{problem.zh if problem else ''}{HINT.zh}"))
    for word in list(word_counts) + other_words:
        pieces = impl.bpe_encode(word, merges)
        expect(isinstance(pieces, list) and all(isinstance(p, str) for p in pieces),
               say(en=f"bpe_encode({word!r}, ...) should return a list of str, got {pieces!r:.200}",
                   zh=f"bpe_encode({word!r}, ...) 应返回 str 列表，实际是 {pieces!r:.200}"))
        expect("".join(pieces) == word + END,
               say(en=f"bpe_encode({word!r}, {merges}) returned {pieces}, which does not concatenate back to "
                      f"{word + END!r}: merge adjacent symbols of a list (no string replacement) and end with '</w>'.",
                   zh=f"bpe_encode({word!r}, {merges}) 返回了 {pieces}，拼接起来不等于 {word + END!r}：要合并列表里"
                      "相邻的符号（不要做字符串替换），并以 '</w>' 结尾。"))
        seg = list(word) + [END]
        for pair in merges:
            seg = merge_all(seg, tuple(pair))
        expect(pieces == seg, say(en=f"bpe_encode({word!r}, {merges}) returned {pieces}, expected {seg}: apply the merges "
                                     "in order, each to non-overlapping occurrences from left to right.",
                                  zh=f"bpe_encode({word!r}, {merges}) 返回了 {pieces}，应为 {seg}：按顺序应用合并，"
                                     "每条都从左到右作用于不重叠的出现。"))
