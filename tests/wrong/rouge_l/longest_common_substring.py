"""Known-wrong: uses the longest common SUBSTRING (contiguous tokens) instead of the longest common subsequence."""


def lcs(a, b):
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def f_score(p, r, beta):
    return (1 + beta ** 2) * p * r / (r + beta ** 2 * p)


def rouge_l(candidate, reference, beta=1.0):
    n = lcs(candidate, reference)
    if n == 0:
        return 0.0, 0.0, 0.0
    p, r = n / len(candidate), n / len(reference)
    return p, r, f_score(p, r, beta)
