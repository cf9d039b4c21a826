r"""Tokenization: byte-pair encoding (BPE) as used for subword vocabularies.

BPE starts from characters and repeatedly merges the most frequent adjacent
pair of symbols into a new symbol. Each word carries an end-of-word marker
`</w>`, so "est</w>" (a word ending) and "est" (inside a word) are different
symbols. With $n(w)$ the corpus count of word $w$, the pair score is

$$\mathrm{count}(a, b) = \sum_w n(w)\,\#\{\text{positions } i : (s_i, s_{i+1}) = (a, b) \text{ in } w\},$$

and training greedily merges $\arg\max$ count (ties: the smallest pair in
Python tuple order) until the merge budget is spent. Encoding a new word
replays the learned merges in training order, so frequent words become one
symbol while rare words fall back to pieces — no word is out of vocabulary.

Paper: Sennrich, Haddow & Birch, *Neural Machine Translation of Rare Words
with Subword Units*, arXiv:1508.07909.
"""
from __future__ import annotations

from collections import Counter

END = "</w>"


def _merge_pair(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    """Replace every non-overlapping occurrence of `pair`, scanning left to right."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2  # skip both halves: occurrences never overlap
        else:
            out.append(symbols[i])
            i += 1
    return out


def bpe_train(word_counts: dict[str, int], num_merges: int) -> list[tuple[str, str]]:
    """Learn up to `num_merges` BPE merges from a {word: count} dictionary.

    Each word is split into its characters plus a separate end symbol '</w>'.
    Pair counts are weighted by the word counts and count every adjacent
    occurrence. Each step merges the most frequent pair, ties broken by the
    smallest pair in Python tuple order (`min` over `(-count, pair)`), in every
    word, and records it; training stops early when no pair is left. Returns
    the merges in the order they were learned.
    """
    vocab = {word: list(word) + [END] for word in word_counts}  # word -> current symbols
    merges: list[tuple[str, str]] = []
    for _ in range(num_merges):
        pair_counts: Counter[tuple[str, str]] = Counter()
        for word, symbols in vocab.items():
            for pair in zip(symbols, symbols[1:]):  # every adjacent occurrence
                pair_counts[pair] += word_counts[word]
        if not pair_counts:
            break  # every word is a single symbol
        best = min(pair_counts, key=lambda p: (-pair_counts[p], p))  # most frequent; ties: smallest pair
        merges.append(best)
        vocab = {word: _merge_pair(symbols, best) for word, symbols in vocab.items()}
    return merges


def bpe_encode(word: str, merges: list[tuple[str, str]]) -> list[str]:
    """Split `word` into characters + '</w>' and apply `merges` in training order.

    Each merge is applied to every non-overlapping occurrence, scanning left
    to right. The returned symbols concatenate back to word + '</w>'.
    """
    symbols = list(word) + [END]
    for pair in merges:
        symbols = _merge_pair(symbols, pair)
    return symbols
