"""Known-wrong: computes BLEU for each sentence and averages the scores, instead of pooling the n-gram counts and
lengths over the corpus."""
import math
from collections import Counter


def ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def closest(refs, c):
    return min((abs(len(r) - c), len(r)) for r in refs)[1]


def sentence_bleu(cand, refs, max_n):
    logs = 0.0
    for n in range(1, max_n + 1):
        best = Counter()
        for ref in refs:
            best |= ngrams(ref, n)
        counts = ngrams(cand, n)
        m = sum(min(v, best[g]) for g, v in counts.items())
        if m == 0:
            return 0.0
        logs += math.log(m / sum(counts.values()))
    c, r = len(cand), closest(refs, len(cand))
    bp = 1.0 if c >= r else math.exp(1 - r / c)
    return bp * math.exp(logs / max_n)


def corpus_bleu(candidates, references, max_n=4):
    return sum(sentence_bleu(c, refs, max_n) for c, refs in zip(candidates, references)) / len(candidates)
