"""bpe: byte-pair encoding, training and encoding.

The classic example is worked out by hand below (Sennrich et al. 2016, arXiv:1508.07909), following the
contract's tie-breaking rule; a brute-force pair counter written here re-derives every merge of any corpus.
"""
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect

END = "</w>"
HINT = ("Split each word into characters + '</w>'; count every adjacent pair, weighted by the word's count; merge "
        "the pair with the highest count (ties: the smallest pair, min over (-count, pair)) in every word; repeat.")

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


def replay(word_counts, merges, num_merges):
    """Re-derive every merge with a brute-force counter; returns None if all agree, else a message."""
    seg = {w: list(w) + [END] for w in word_counts}
    for k, pair in enumerate(merges):
        counts = {}
        for w, symbols in seg.items():
            for i in range(len(symbols) - 1):
                p = (symbols[i], symbols[i + 1])
                counts[p] = counts.get(p, 0) + word_counts[w]
        if not counts:
            return f"merge {k + 1} is {pair}, but no pair is left after {k} merges — stop early."
        top = max(counts.values())
        expected = sorted(p for p, c in counts.items() if c == top)[0]
        if tuple(pair) != expected:
            return (f"merge {k + 1} is {tuple(pair)} (count {counts.get(tuple(pair), 0)}), expected {expected} "
                    f"(count {top}; pairs with that count: {sorted(p for p, c in counts.items() if c == top)}).")
        seg = {w: merge_all(s, expected) for w, s in seg.items()}
    left = any(len(s) > 1 for s in seg.values())
    if len(merges) < num_merges and left:
        return f"only {len(merges)} merges for num_merges={num_merges}, but pairs are still left."
    if len(merges) > num_merges:
        return f"{len(merges)} merges returned for num_merges={num_merges}."
    return None


def check_types(merges, what):
    expect(isinstance(merges, list) and all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(s, str) for s in p)
                                            for p in merges),
           f"{what} should return a list of (str, str) tuples, got {merges!r:.300}")


def test_classic_example(impl):
    counts = dict(CLASSIC)
    merges = impl.bpe_train(counts, 10)
    what = "bpe_train({'low': 5, 'lower': 2, 'newest': 6, 'widest': 3}, 10)"
    check_types(merges, what)
    expect(merges == CLASSIC_MERGES[:10], f"{what} returned {merges}; expected {CLASSIC_MERGES[:10]}. "
           f"First mismatch: {replay(CLASSIC, merges, 10)} {HINT}")
    expect(counts == CLASSIC, "bpe_train modified the word_counts dictionary passed in")


def test_classic_example_stops_when_no_pair_is_left(impl):
    merges = impl.bpe_train(dict(CLASSIC), 100)
    what = "bpe_train(classic example, num_merges=100)"
    check_types(merges, what)
    expect(merges == CLASSIC_MERGES, f"{what} returned {len(merges)} merges {merges}; after the 15 merges "
           f"{CLASSIC_MERGES} every word is a single symbol, so training must stop there. {HINT}")


def test_pair_counts_are_weighted_and_count_every_occurrence(impl):
    merges = impl.bpe_train({"ab": 1, "cd": 2}, 1)
    expect(merges == [("c", "d")], f"bpe_train({{'ab': 1, 'cd': 2}}, 1) returned {merges}; (c, d) occurs in a word "
           "seen twice, so its count is 2 and it wins over (a, b) with count 1 — weight pair counts by word counts.")
    merges = impl.bpe_train({"aaaa": 1, "bc": 3}, 2)
    expect(merges == [("a", "a"), ("b", "c")],
           f"bpe_train({{'aaaa': 1, 'bc': 3}}, 2) returned {merges}, expected [('a', 'a'), ('b', 'c')]: 'aaaa' has "
           "three adjacent (a, a) pairs, so (a, a) has count 3, tying (b, c) and (c, '</w>') and winning as the "
           "smallest pair; after merging, 'aaaa' is aa aa </w>. Count EVERY adjacent occurrence.")


def test_encode_classic_words(impl):
    cases = {"lowest": ["low", "est" + END], "newer": ["n", "ew", "er" + END], "widest": ["widest" + END],
             "lower": ["lower" + END], "newest": ["newest" + END], "low": ["low" + END], "x": ["x", END]}
    for word, want in cases.items():
        got = impl.bpe_encode(word, list(CLASSIC_MERGES))
        expect(got == want, f"bpe_encode({word!r}, classic merges) returned {got}, expected {want}. Apply the merges "
               "one after another in training order, each to every non-overlapping occurrence, left to right.")


def test_merges_apply_in_training_order(impl):
    for merges, want in (([("b", "c"), ("a", "b")], ["a", "bc", END]), ([("a", "b"), ("b", "c")], ["ab", "c", END])):
        got = impl.bpe_encode("abc", merges)
        expect(got == want, f"bpe_encode('abc', {merges}) returned {got}, expected {want}: apply merges in the order "
               "given; a merge only joins two CURRENT symbols (after 'ab' is formed, 'b' is no longer a symbol).")


def test_merges_do_not_overlap(impl):
    for word, merges, want in (("aaa", [("a", "a")], ["aa", "a", END]),
                               ("aaaa", [("a", "a")], ["aa", "aa", END]),
                               ("aaa", [("a", "a"), ("aa", "a")], ["aaa", END]),
                               ("aaa", [("a", END)], ["a", "a", "a" + END])):
        got = impl.bpe_encode(word, merges)
        expect(got == want, f"bpe_encode({word!r}, {merges}) returned {got}, expected {want}: merge non-overlapping "
               "occurrences scanning left to right.")


corpus = st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=6), st.integers(1, 5), min_size=1, max_size=5)


@given(corpus, st.integers(0, 12), st.lists(st.text(alphabet="abcd", min_size=1, max_size=7), max_size=3))
def test_property_brute_force_counter_agrees(impl, word_counts, num_merges, other_words):
    merges = impl.bpe_train(dict(word_counts), num_merges)
    what = f"bpe_train({word_counts}, {num_merges})"
    check_types(merges, what)
    problem = replay(word_counts, merges, num_merges)
    expect(problem is None, f"{what} returned {merges}: {problem} {HINT}")
    for word in list(word_counts) + other_words:
        pieces = impl.bpe_encode(word, merges)
        expect(isinstance(pieces, list) and all(isinstance(p, str) for p in pieces),
               f"bpe_encode({word!r}, ...) should return a list of str, got {pieces!r:.200}")
        expect("".join(pieces) == word + END, f"bpe_encode({word!r}, {merges}) returned {pieces}, which does not "
               f"concatenate back to {word + END!r}.")
        seg = list(word) + [END]
        for pair in merges:
            seg = merge_all(seg, tuple(pair))
        expect(pieces == seg, f"bpe_encode({word!r}, {merges}) returned {pieces}, expected {seg}.")
