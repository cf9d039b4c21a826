"""Known-wrong: log-binomials with torch.lgamma in float32; at n = 10⁴ the log-gamma values near 8·10⁴ are spaced
2⁻⁷ apart, which wipes out most digits of their small difference."""
import torch


def log_binom(a, b):
    a, b = torch.tensor(float(a)), torch.tensor(float(b))
    return torch.lgamma(a + 1) - torch.lgamma(b + 1) - torch.lgamma(a - b + 1)


def pass_at_k(n, c, k):
    if n - c < k:
        return 1.0
    return float(1.0 - torch.exp(log_binom(n - c, k) - log_binom(n, k)))
