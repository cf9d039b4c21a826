"""Known-wrong: merges by plain string replacement on the space-joined symbols, so 'b c' also matches inside 'ab c' and symbols get glued across boundaries."""
from collections import Counter


def _merge(symbols, pair):
    return " ".join(symbols).replace(" ".join(pair), "".join(pair)).split(" ")


def bpe_train(word_counts, num_merges):
    vocab = {w: list(w) + ["</w>"] for w in word_counts}
    merges = []
    for _ in range(num_merges):
        counts = Counter()
        for w, symbols in vocab.items():
            for pair in zip(symbols, symbols[1:]):
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
