"""sinusoidal-positional-encoding: PE[p, 2i] = sin(p ω_i), PE[p, 2i+1] = cos(p ω_i), ω_i = 10000^(−2i/d)."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect_close, expect_tensor, say

HINT = say(en="PE[p, 2i] = sin(p / 10000^(2i/d)) in the EVEN columns and PE[p, 2i+1] = cos(same angle) in the ODD "
              "columns — the pair (2i, 2i+1) shares one frequency; i runs over 0 .. d/2 − 1.",
           zh="偶数列放 PE[p, 2i] = sin(p / 10000^(2i/d))，奇数列放 PE[p, 2i+1] = cos(同一角度)——"
              "列对 (2i, 2i+1) 共用一个频率；i 取 0 .. d/2 − 1。")


def likely_pe_mistakes(n, d):
    """What the usual mistakes give for an (n, d) table, each with its cause (expect_close(likely=...))."""
    p = torch.arange(n, dtype=torch.float64)[:, None]
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    slow = 10000.0 ** (-torch.arange(d // 2, dtype=torch.float64) / d)
    swapped, wrong_exp = torch.zeros(n, d, dtype=torch.float64), torch.zeros(n, d, dtype=torch.float64)
    swapped[:, 0::2], swapped[:, 1::2] = torch.cos(p * omega), torch.sin(p * omega)
    wrong_exp[:, 0::2], wrong_exp[:, 1::2] = torch.sin(p * slow), torch.cos(p * slow)
    return tuple((v.float(), c) for v, c in (
        (torch.cat([torch.sin(p * omega), torch.cos(p * omega)], dim=1),
         say(en="all sines in the first half of the columns and all cosines in the second; interleave them: sin at "
                "column 2i, cos at 2i+1 (pe[:, 0::2], pe[:, 1::2]).",
             zh="前一半列全是 sin、后一半列全是 cos；应交错放置：sin 在第 2i 列，cos 在第 2i+1 列（pe[:, 0::2]、pe[:, 1::2]）。")),
        (swapped,
         say(en="cos in the even columns and sin in the odd ones; the contract puts sin at 2i and cos at 2i+1.",
             zh="偶数列放了 cos、奇数列放了 sin；约定是 sin 在 2i、cos 在 2i+1。")),
        (wrong_exp,
         say(en="frequencies 10000^(−i/d) with the pair index i; the exponent is −2i/d.",
             zh="频率用了 10000^(−i/d)（i 是列对序号）；指数应是 −2i/d。"))))


def oracle(n, d):
    """The formula in float64."""
    p = torch.arange(n, dtype=torch.float64)[:, None]
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # ω_i = 10000^(−2i/d)
    pe = torch.zeros(n, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(p * omega)
    pe[:, 1::2] = torch.cos(p * omega)
    return pe


def shift_matrix(k, d):
    """M_k with PE[p + k] = M_k PE[p]: one 2×2 rotation by k·ω_i per (sin, cos) pair."""
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    m = torch.zeros(d, d, dtype=torch.float64)
    c, s = torch.cos(k * omega), torch.sin(k * omega)
    for i in range(d // 2):
        # sin(a + b) = sin a cos b + cos a sin b;  cos(a + b) = cos a cos b − sin a sin b
        m[2 * i, 2 * i], m[2 * i, 2 * i + 1] = c[i], s[i]
        m[2 * i + 1, 2 * i], m[2 * i + 1, 2 * i + 1] = -s[i], c[i]
    return m


def check(impl, n, d, atol=1e-4):
    got = impl.sinusoidal_positional_encoding(n, d)
    what = f"sinusoidal_positional_encoding({n}, {d})"
    expect_tensor(got, what, shape=(n, d), dtype=torch.float32)
    expect_close(got, oracle(n, d).float(), what, atol=atol, rtol=0, hint=HINT, likely=likely_pe_mistakes(n, d))
    return got


def test_small_table(impl):
    check(impl, 4, 6)


def test_realistic_size(impl):
    # d = 64 over 128 positions: low and high frequencies, sin/cos order and the exponent all show.
    check(impl, 128, 64)


def test_first_row_and_lowest_frequency(impl):
    pe = check(impl, 10, 8)
    likely = likely_pe_mistakes(10, 8)
    expect_close(pe[0], torch.tensor([0.0, 1.0] * 4),
                 say(en="row p = 0 (sin 0 = 0 in even columns, cos 0 = 1 in odd)",
                     zh="第 p = 0 行（偶数列 sin 0 = 0，奇数列 cos 0 = 1）"),
                 atol=1e-6, hint=HINT, likely=tuple((v[0], c) for v, c in likely))
    expect_close(pe[:, 0], torch.sin(torch.arange(10.0)),
                 say(en="column 0 (ω_0 = 1, so sin(p))", zh="第 0 列（ω_0 = 1，所以是 sin(p)）"),
                 atol=1e-5, hint=HINT, likely=tuple((v[:, 0], c) for v, c in likely))


def test_shift_is_a_fixed_block_rotation(impl):
    # PE[p + k] = M_k PE[p] for every p, with M_k independent of p: the property that lets attention
    # express relative offsets as a linear function of the encodings.
    n, d = 48, 16
    pe = impl.sinusoidal_positional_encoding(n, d)
    expect_tensor(pe, f"sinusoidal_positional_encoding({n}, {d})", shape=(n, d), dtype=torch.float32)
    pe = pe.double()
    for k in (1, 3, 10):
        shifted = pe[:-k] @ shift_matrix(k, d).T  # row p: M_k PE[p]
        expect_close(pe[k:].float(), shifted.float(),
                     say(en=f"PE[p + {k}] vs the block rotation M_{k} PE[p] (rows p = 0..{n - k - 1})",
                         zh=f"PE[p + {k}] 与分块旋转 M_{k} PE[p] 的对比（第 p = 0..{n - k - 1} 行）"), atol=2e-4, rtol=0,
                     hint=say(en="Each pair (PE[p, 2i], PE[p, 2i+1]) = (sin pω_i, cos pω_i) must rotate by kω_i when "
                                 "p → p + k. ",
                              zh="当 p → p + k 时，每一对 (PE[p, 2i], PE[p, 2i+1]) = (sin pω_i, cos pω_i) 必须旋转 kω_i。")
                     + HINT)


@given(st.integers(1, 40), st.integers(1, 6))
def test_any_size(impl, n, half_d):
    check(impl, n, 2 * half_d)
