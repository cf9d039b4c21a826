"""Known-wrong: Counter.most_common picks, among tied pairs, the one counted first (dictionary order), not the smallest pair as the contract says."""
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
            for pair in zip(symbols, symbols[1:]):
                counts[pair] += word_counts[w]
        if not counts:
            break
        best = counts.most_common(1)[0][0]
        merges.append(best)
        vocab = {w: _merge(s, best) for w, s in vocab.items()}
    return merges


def bpe_encode(word, merges):
    symbols = list(word) + ["</w>"]
    for pair in merges:
        symbols = _merge(symbols, pair)
    return symbols
