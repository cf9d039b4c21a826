"""alibi: per-head slopes (powers of two and the ALiBi authors' rule otherwise) and the (H, n, n) distance bias."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

SLOPE_RULE = ("For H a power of two, m_h = 2^(−8h/H) for h = 1..H. Otherwise, with P = 2^⌊log₂H⌋: the P slopes for "
              "P heads, then the first H − P of the EVEN-indexed entries (0, 2, 4, …) of the slopes for 2P heads, "
              "in that order (not sorted).")
BIAS_RULE = ("bias[h, t, s] = m_h · (s − t) for s ≤ t (zero on the diagonal, more negative the further back the "
             "key is) and 0 for s > t; shape (H, n, n) with the head first.")


def slope_exponents(H):
    """The closed rule, as exponents e_h with m_h = 2^e_h."""
    P = 2 ** int(math.floor(math.log2(H)))
    first = [-8 * h / P for h in range(1, P + 1)]
    extra = [-8 * h / (2 * P) for h in range(1, 2 * P + 1)][0::2][:H - P]
    return first + extra


def closed_slopes(H):
    return torch.tensor([2.0 ** e for e in slope_exponents(H)], dtype=torch.float64).float()


def brute_bias(slopes, n):
    H = slopes.numel()
    bias = torch.zeros(H, n, n, dtype=torch.float64)
    for h in range(H):
        for t in range(n):
            for s in range(t + 1):
                bias[h, t, s] = slopes[h].item() * (s - t)
    return bias.float()


def get_slopes(impl, H):
    got = impl.alibi_slopes(H)
    return expect_tensor(got, f"alibi_slopes({H})", shape=(H,), dtype=torch.float32)


def test_eight_heads_are_halvings(impl):
    got = get_slopes(impl, 8)
    want = torch.tensor([1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256])
    expect_close(got, want, "alibi_slopes(8)", atol=0, rtol=1e-6,
                 hint="For 8 heads the slopes are 1/2, 1/4, …, 1/256: m_h = 2^(−8h/H) with h starting at 1, not 0.")


def test_other_powers_of_two(impl):
    for H in (1, 2, 4, 16, 32):
        want = torch.tensor([2.0 ** (-8 * h / H) for h in range(1, H + 1)], dtype=torch.float64).float()
        expect_close(get_slopes(impl, H), want, f"alibi_slopes({H})", atol=0, rtol=1e-6,
                     hint="m_h = 2^(−8h/H) for h = 1..H: a geometric sequence starting at 2^(−8/H) with ratio 2^(−8/H).")


def test_six_heads_use_the_authors_rule(impl):
    # P = 4: 2^-2, 2^-4, 2^-6, 2^-8; then the even-indexed entries of the 8-head slopes (2^-1, 2^-3, ...), first 2.
    want = torch.tensor([2.0 ** -2, 2.0 ** -4, 2.0 ** -6, 2.0 ** -8, 2.0 ** -1, 2.0 ** -3])
    got = get_slopes(impl, 6)
    naive = torch.tensor([2.0 ** (-8 * h / 6) for h in range(1, 7)])
    hint = SLOPE_RULE
    if torch.allclose(got, naive, rtol=1e-5):
        hint = "You used 2^(−8h/H) for H = 6, but that formula is for powers of two only. " + SLOPE_RULE
    elif torch.allclose(got, want.sort(descending=True).values, rtol=1e-5):
        hint = "You sorted the slopes; keep the rule's order (the P-head slopes first, then the extra ones). " + SLOPE_RULE
    expect_close(got, want, "alibi_slopes(6)", atol=0, rtol=1e-6, hint=hint)


def test_twelve_heads_use_the_authors_rule(impl):
    # P = 8: 2^-1 .. 2^-8; then entries 0, 2, 4, 6 of the 16-head slopes: 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5.
    exps = [-1, -2, -3, -4, -5, -6, -7, -8, -0.5, -1.5, -2.5, -3.5]
    want = torch.tensor([2.0 ** e for e in exps], dtype=torch.float64).float()
    expect_close(get_slopes(impl, 12), want, "alibi_slopes(12)", atol=0, rtol=1e-6, hint=SLOPE_RULE)


@given(st.integers(1, 40))
def test_property_slopes_for_any_head_count(impl, H):
    expect_close(get_slopes(impl, H), closed_slopes(H), f"alibi_slopes({H})", atol=0, rtol=1e-6, hint=SLOPE_RULE)


def test_bias_against_brute_force(impl):
    for H, n in ((8, 5), (6, 4), (3, 6)):
        got = impl.alibi_bias(H, n)
        expect_tensor(got, f"alibi_bias({H}, {n})", shape=(H, n, n), dtype=torch.float32)
        expect_close(got, brute_bias(closed_slopes(H), n), f"alibi_bias({H}, {n})", atol=1e-7, rtol=1e-6,
                     hint=BIAS_RULE + " Use alibi_slopes(H) for m_h.")


def test_bias_sign_diagonal_and_future(impl):
    H, n = 4, 6
    got = expect_tensor(impl.alibi_bias(H, n), f"alibi_bias({H}, {n})", shape=(H, n, n), dtype=torch.float32)
    expect(bool((got.diagonal(dim1=-2, dim2=-1) == 0).all()),
           f"alibi_bias({H}, {n}) must be 0 on the diagonal (distance 0); got {got[0].diagonal().tolist()} for head 0.")
    expect(bool((got <= 0).all()),
           f"alibi_bias({H}, {n}) has positive entries (max {got.max().item():.4g}); the bias is a PENALTY: "
           "m_h · (s − t) ≤ 0 for keys s ≤ t. A positive sign would favour distant tokens.")
    future = got.triu(diagonal=1)
    expect(bool((future == 0).all()),
           f"alibi_bias({H}, {n})[h, t, s] must be 0 for s > t (future keys, removed by the causal mask); got "
           f"{future[future != 0][:3].tolist()}. Don't use −m·|t − s| on both sides.")
    row = got[:, n - 1, :]  # the last query: keys 0..n-1
    expect(bool((row[:, 1:] > row[:, :-1]).all()),
           f"in alibi_bias({H}, {n}) the last query's bias must increase towards the diagonal (less penalty for nearer "
           f"keys); head 0 gives {row[0].tolist()}.")


def test_deterministic(impl):
    expect_deterministic(impl.alibi_slopes, 12, what="alibi_slopes(12)")
    expect_deterministic(impl.alibi_bias, 6, 5, what="alibi_bias(6, 5)")
