"""Known-wrong: divides by the reference length for precision and by the candidate length for recall."""


def lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


def f_score(p, r, beta):
    return (1 + beta ** 2) * p * r / (r + beta ** 2 * p)


def rouge_l(candidate, reference, beta=1.0):
    n = lcs(candidate, reference)
    if n == 0:
        return 0.0, 0.0, 0.0
    p, r = n / len(reference), n / len(candidate)
    return p, r, f_score(p, r, beta)
