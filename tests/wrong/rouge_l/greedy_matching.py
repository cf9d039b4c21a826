"""Known-wrong: matches greedily left to right (each candidate token takes the next occurrence in the reference)
instead of finding the longest common subsequence by dynamic programming."""


def f_score(p, r, beta):
    return (1 + beta ** 2) * p * r / (r + beta ** 2 * p)


def rouge_l(candidate, reference, beta=1.0):
    n, start = 0, 0
    for tok in candidate:
        for j in range(start, len(reference)):
            if reference[j] == tok:
                n, start = n + 1, j + 1
                break
    if n == 0:
        return 0.0, 0.0, 0.0
    p, r = n / len(candidate), n / len(reference)
    return p, r, f_score(p, r, beta)
