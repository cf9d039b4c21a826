"""Known-wrong: the stable product runs over i = n − c … n instead of n − c + 1 … n (one factor too many)."""


def pass_at_k(n, c, k):
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod
