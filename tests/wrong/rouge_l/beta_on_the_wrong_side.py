"""Known-wrong: F = (1 + β²)·P·R / (β²·R + P), which weights precision (not recall) by β."""


def lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


def rouge_l(candidate, reference, beta=1.0):
    n = lcs(candidate, reference)
    if n == 0:
        return 0.0, 0.0, 0.0
    p, r = n / len(candidate), n / len(reference)
    return p, r, (1 + beta ** 2) * p * r / (beta ** 2 * r + p)
