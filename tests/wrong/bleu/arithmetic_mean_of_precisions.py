"""Known-wrong: combines the modified precisions with an arithmetic mean instead of a geometric mean."""
import math
from collections import Counter


def ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def closest(refs, c):
    return min((abs(len(r) - c), len(r)) for r in refs)[1]


def corpus_bleu(candidates, references, max_n=4):
    matched, total, c, r = [0] * max_n, [0] * max_n, 0, 0
    for cand, refs in zip(candidates, references):
        c, r = c + len(cand), r + closest(refs, len(cand))
        for n in range(1, max_n + 1):
            best = Counter()
            for ref in refs:
                best |= ngrams(ref, n)
            counts = ngrams(cand, n)
            matched[n - 1] += sum(min(v, best[g]) for g, v in counts.items())
            total[n - 1] += sum(counts.values())
    if min(matched) == 0:
        return 0.0
    bp = 1.0 if c >= r else math.exp(1 - r / c)
    return bp * sum(m / t for m, t in zip(matched, total)) / max_n
