"""Known-wrong: 1 − (1 − c/n)^k, which treats the k samples as drawn with replacement and is biased."""


def pass_at_k(n, c, k):
    return 1.0 - (1.0 - c / n) ** k
