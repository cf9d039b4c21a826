"""Known-wrong: computes each binomial as a float from factorials; exact for small n but overflows for n = 10⁴."""
import math


def binom(a, b):
    if b > a:
        return 0.0
    return math.factorial(a) / (math.factorial(b) * math.factorial(a - b))


def pass_at_k(n, c, k):
    return 1.0 - binom(n - c, k) / binom(n, k)
