"""alibi: per-head slopes (powers of two and the ALiBi authors' rule otherwise) and the (H, n, n) distance bias."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

SLOPE_RULE = say(en="For H a power of two, m_h = 2^(−8h/H) for h = 1..H. Otherwise, with P = 2^⌊log₂H⌋: the P slopes "
                    "for P heads, then the first H − P of the EVEN-indexed entries (0, 2, 4, …) of the slopes for 2P "
                    "heads, in that order (not sorted).",
                 zh="H 为 2 的幂时，m_h = 2^(−8h/H)，h = 1..H。否则取 P = 2^⌊log₂H⌋：先是 P 个头的 P 个斜率，再接上 "
                    "2P 个头的斜率中偶数下标（0, 2, 4, …）的前 H − P 个，保持这个顺序（不要排序）。")
BIAS_RULE = say(en="bias[h, t, s] = m_h · (s − t) for s ≤ t (zero on the diagonal, more negative the further back the "
                   "key is) and 0 for s > t; shape (H, n, n) with the head first. Use alibi_slopes(H) for m_h.",
                zh="s ≤ t 时 bias[h, t, s] = m_h · (s − t)（对角线上为 0，键越靠前越负），s > t 时为 0；形状为 "
                   "(H, n, n)，头在第一维。m_h 用 alibi_slopes(H)。")


def likely_slope_mistakes(H):
    """What the usual slope mistakes give for H heads, each with its cause."""
    geometric = torch.tensor([2.0 ** (-8 * h / H) for h in range(1, H + 1)], dtype=torch.float64).float()
    from_zero = torch.tensor([2.0 ** (-8 * h / H) for h in range(H)], dtype=torch.float64).float()
    return ((geometric,
             say(en=f"2^(−8h/H) for H = {H}, but that formula is for powers of two only; otherwise take the P = "
                    "2^⌊log₂H⌋ slopes, then every other slope of 2P heads.",
                 zh=f"H = {H} 时用了 2^(−8h/H)，但这个公式只适用于 2 的幂；否则先取 P = 2^⌊log₂H⌋ 个头的斜率，"
                    "再从 2P 个头的斜率中隔一个取一个。")),
            (from_zero,
             say(en="heads counted from 0 (the first slope is 1); h runs from 1 to H, so the first slope is 2^(−8/H).",
                 zh="头的编号从 0 开始（第一个斜率是 1）；h 应从 1 取到 H，第一个斜率是 2^(−8/H)。")),
            (closed_slopes(H).sort(descending=True).values,
             say(en="the slopes sorted; keep the rule's order (the P-head slopes first, then the extra ones).",
                 zh="把斜率排了序；要保持规则给出的顺序（先是 P 个头的斜率，再是补充的那些）。")))


def likely_bias_mistakes(H, n):
    """What the usual bias mistakes give, each with its cause."""
    right = brute_bias(closed_slopes(H), n)
    return ((-right,
             say(en="m_h · (t − s), a bonus that grows with the distance; the bias is the penalty m_h · (s − t) ≤ 0.",
                 zh="用了 m_h · (t − s)，距离越远加分越多；偏置应是惩罚 m_h · (s − t) ≤ 0。")),
            (right + right.transpose(-1, -2),
             say(en="−m_h·|t − s| on both sides of the diagonal (the bidirectional variant); future keys s > t get 0.",
                 zh="对角线两侧都用了 −m_h·|t − s|（双向变体）；未来的键 s > t 应为 0。")))


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
                 hint=say(en="For 8 heads the slopes are 1/2, 1/4, …, 1/256: m_h = 2^(−8h/H) with h starting at 1, "
                             "not 0.",
                          zh="8 个头的斜率是 1/2, 1/4, …, 1/256：m_h = 2^(−8h/H)，h 从 1 开始，不是从 0 开始。"),
                 likely=likely_slope_mistakes(8))


def test_other_powers_of_two(impl):
    for H in (1, 2, 4, 16, 32):
        want = torch.tensor([2.0 ** (-8 * h / H) for h in range(1, H + 1)], dtype=torch.float64).float()
        expect_close(get_slopes(impl, H), want, f"alibi_slopes({H})", atol=0, rtol=1e-6,
                     hint=say(en="m_h = 2^(−8h/H) for h = 1..H: a geometric sequence starting at 2^(−8/H) with ratio "
                                 "2^(−8/H).",
                              zh="m_h = 2^(−8h/H)，h = 1..H：首项为 2^(−8/H)、公比为 2^(−8/H) 的等比数列。"),
                     likely=likely_slope_mistakes(H))


def test_six_heads_use_the_authors_rule(impl):
    # P = 4: 2^-2, 2^-4, 2^-6, 2^-8; then the even-indexed entries of the 8-head slopes (2^-1, 2^-3, ...), first 2.
    want = torch.tensor([2.0 ** -2, 2.0 ** -4, 2.0 ** -6, 2.0 ** -8, 2.0 ** -1, 2.0 ** -3])
    got = get_slopes(impl, 6)
    expect_close(got, want, "alibi_slopes(6)", atol=0, rtol=1e-6, hint=SLOPE_RULE, likely=likely_slope_mistakes(6))


def test_twelve_heads_use_the_authors_rule(impl):
    # P = 8: 2^-1 .. 2^-8; then entries 0, 2, 4, 6 of the 16-head slopes: 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5.
    exps = [-1, -2, -3, -4, -5, -6, -7, -8, -0.5, -1.5, -2.5, -3.5]
    want = torch.tensor([2.0 ** e for e in exps], dtype=torch.float64).float()
    expect_close(get_slopes(impl, 12), want, "alibi_slopes(12)", atol=0, rtol=1e-6, hint=SLOPE_RULE,
                 likely=likely_slope_mistakes(12))


@given(st.integers(1, 40))
def test_property_slopes_for_any_head_count(impl, H):
    expect_close(get_slopes(impl, H), closed_slopes(H), f"alibi_slopes({H})", atol=0, rtol=1e-6, hint=SLOPE_RULE,
                 likely=likely_slope_mistakes(H))


def test_bias_against_brute_force(impl):
    for H, n in ((8, 5), (6, 4), (3, 6)):
        got = impl.alibi_bias(H, n)
        expect_tensor(got, f"alibi_bias({H}, {n})", shape=(H, n, n), dtype=torch.float32)
        expect_close(got, brute_bias(closed_slopes(H), n), f"alibi_bias({H}, {n})", atol=1e-7, rtol=1e-6,
                     hint=BIAS_RULE, likely=likely_bias_mistakes(H, n))


def test_bias_sign_diagonal_and_future(impl):
    H, n = 4, 6
    got = expect_tensor(impl.alibi_bias(H, n), f"alibi_bias({H}, {n})", shape=(H, n, n), dtype=torch.float32)
    expect(bool((got.diagonal(dim1=-2, dim2=-1) == 0).all()),
           say(en=f"alibi_bias({H}, {n}) must be 0 on the diagonal (distance 0); got {got[0].diagonal().tolist()} for "
                  "head 0.",
               zh=f"alibi_bias({H}, {n}) 在对角线上（距离 0）必须为 0；头 0 的对角线是 {got[0].diagonal().tolist()}。"))
    expect(bool((got <= 0).all()),
           say(en=f"alibi_bias({H}, {n}) has positive entries (max {got.max().item():.4g}); the bias is a PENALTY: "
                  "m_h · (s − t) ≤ 0 for keys s ≤ t. A positive sign would favour distant tokens.",
               zh=f"alibi_bias({H}, {n}) 有正的元素（最大 {got.max().item():.4g}）；偏置是惩罚：对键 s ≤ t，"
                  "m_h · (s − t) ≤ 0。符号为正会偏向远处的 token。"))
    future = got.triu(diagonal=1)
    expect(bool((future == 0).all()),
           say(en=f"alibi_bias({H}, {n})[h, t, s] must be 0 for s > t (future keys, removed by the causal mask); got "
                  f"{future[future != 0][:3].tolist()}. Don't use −m·|t − s| on both sides.",
               zh=f"s > t（未来的键，会被因果掩码去掉）时 alibi_bias({H}, {n})[h, t, s] 必须为 0；实际是 "
                  f"{future[future != 0][:3].tolist()}。不要在对角线两侧都用 −m·|t − s|。"))
    row = got[:, n - 1, :]  # the last query: keys 0..n-1
    expect(bool((row[:, 1:] > row[:, :-1]).all()),
           say(en=f"in alibi_bias({H}, {n}) the last query's bias must increase towards the diagonal (less penalty for "
                  f"nearer keys); head 0 gives {row[0].tolist()}.",
               zh=f"alibi_bias({H}, {n}) 中最后一个查询的偏置必须朝对角线递增（越近的键惩罚越小）；头 0 是 "
                  f"{row[0].tolist()}。"))


def test_deterministic(impl):
    expect_deterministic(impl.alibi_slopes, 12, what="alibi_slopes(12)")
    expect_deterministic(impl.alibi_bias, 6, 5, what="alibi_bias(6, 5)")
