"""Known-wrong: counts a pair at most once per word (a set of pairs), so repeated pairs like the three (a, a) in 'aaaa' are undercounted."""
from collections import Counter


def _merge(symbols, pair):
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def bpe_train(word_counts, num_merges):
    vocab = {w: list(w) + ["</w>"] for w in word_counts}
    merges = []
    for _ in range(num_merges):
        counts = Counter()
        for w, symbols in vocab.items():
            for pair in set(zip(symbols, symbols[1:])):
                counts[pair] += word_counts[w]
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        vocab = {w: _merge(s, best) for w, s in vocab.items()}
    return merges


def bpe_encode(word, merges):
    symbols = list(word) + ["</w>"]
    for pair in merges:
        symbols = _merge(symbols, pair)
    return symbols
