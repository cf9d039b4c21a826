"""Known-wrong: counts the tokens the two lists share (clipped unigram overlap, i.e. ROUGE-1), ignoring order."""
from collections import Counter


def f_score(p, r, beta):
    return (1 + beta ** 2) * p * r / (r + beta ** 2 * p)


def rouge_l(candidate, reference, beta=1.0):
    n = sum((Counter(candidate) & Counter(reference)).values())
    if n == 0:
        return 0.0, 0.0, 0.0
    p, r = n / len(candidate), n / len(reference)
    return p, r, f_score(p, r, beta)
