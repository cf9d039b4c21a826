"""timestep-embedding: [cos(t·f), sin(t·f)] with f_i = max_period^(−i/half), cosines first, zero column for odd dim.

The oracle evaluates the closed form entry by entry in float64 with the `math` module.
"""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged, say

HINT = say(en="With half = dim // 2 and f_i = exp(−ln(max_period)·i/half), i = 0…half−1: "
              "emb = cat([cos(t[:, None]·f), sin(t[:, None]·f)], dim=-1) — all cosines first, then all sines — "
              "plus one zero column at the end when dim is odd.",
           zh="令 half = dim // 2，f_i = exp(−ln(max_period)·i/half)，i = 0…half−1："
              "emb = cat([cos(t[:, None]·f), sin(t[:, None]·f)], dim=-1)——先放全部余弦，再放全部正弦——"
              "dim 为奇数时在末尾再加一列 0。")

TE_MISTAKES = {
    "half_minus_one": say(en="exponents spaced as i/(half − 1) (the lowest frequency is exactly 1/max_period); the task "
                             "uses f_i = max_period^(−i/half).",
                          zh="指数按 i/(half − 1) 划分（最低频率恰为 1/max_period）；本题用 f_i = max_period^(−i/half)。"),
    "over_dim": say(en="f_i = max_period^(−i/dim), the exponent over the full dim; divide by half = dim // 2.",
                    zh="f_i = max_period^(−i/dim)，指数除以了整个 dim；应除以 half = dim // 2。"),
    "fixed_period": say(en="10000 is hard-coded and max_period is ignored; use the max_period argument.",
                        zh="写死了 10000，忽略了 max_period；要使用参数 max_period。"),
    "interleaved": say(en="cos and sin are interleaved per frequency; concatenate all cosines, then all sines.",
                       zh="每个频率的 cos 和 sin 交错排列；应先拼接全部余弦，再拼接全部正弦。"),
    "rounded": say(en="t is cast to an integer (t.long()); fractional timesteps must stay floats.",
                   zh="t 被转成了整数（t.long()）；小数时间步必须保持为浮点数。"),
    "sin_first": say(en="the sines come first, [sin, cos] (the Transformer's positional encoding); ADM and DiT put the "
                        "cosines first: cat([cos, sin]).",
                     zh="正弦放在了前面，[sin, cos]（Transformer 位置编码的顺序）；ADM 和 DiT 把余弦放在前面："
                        "cat([cos, sin])。"),
}


def embed(t, dim, max_period=10000, mistake=None):
    """The closed form vectorized in float64, optionally with one known mistake."""
    half = dim // 2
    denom = {"half_minus_one": max(half - 1, 1), "over_dim": dim}.get(mistake, half)
    period = 10000 if mistake == "fixed_period" else max_period
    f = torch.exp(-math.log(period) * torch.arange(half, dtype=torch.float64) / denom)
    tt = t.double().trunc() if mistake == "rounded" else t.double()
    a = tt[:, None] * f[None]
    if mistake == "interleaved":
        emb = torch.stack([a.cos(), a.sin()], dim=-1).reshape(len(t), 2 * half)
    elif mistake == "sin_first":
        emb = torch.cat([a.sin(), a.cos()], dim=-1)
    else:
        emb = torch.cat([a.cos(), a.sin()], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros(len(t), 1, dtype=torch.float64)], dim=-1)
    return emb


def likely_te_mistakes(t, dim, max_period=10000):
    """What each known mistake gives for these arguments, with its cause (expect_close(likely=...))."""
    return tuple((embed(t, dim, max_period, m).float(), c) for m, c in TE_MISTAKES.items())

# float32 rounds t·f_i (|t·f| ≤ 1000) to ~6e-5 and f_i itself to ~1e-7 relative: sin/cos move by ≤ ~1e-4 for
# t ≤ 1000 (measured ≤ 6e-5 over several correct implementations), far less for t ≤ 1.
ATOL_STEPS = 5e-4
ATOL_UNIT = 2e-6


def oracle(t, dim, max_period=10000):
    """(B, dim) float64 entry by entry."""
    half = dim // 2
    out = torch.zeros(len(t), dim, dtype=torch.float64)
    for b, tb in enumerate(t.double().tolist()):
        for i in range(half):
            f = math.exp(-math.log(max_period) * i / half)
            out[b, i] = math.cos(tb * f)
            out[b, half + i] = math.sin(tb * f)
    return out


def call(impl, t, dim, max_period=None):
    what = f"timestep_embedding(t {tuple(t.shape)}, dim={dim}" + (
        ")" if max_period is None else f", max_period={max_period})")
    out = impl.timestep_embedding(t, dim) if max_period is None else impl.timestep_embedding(t, dim, max_period)
    if dim % 2 and isinstance(out, torch.Tensor) and out.dim() == 2:
        expect(out.size(-1) != dim - 1,
               say(en=f"{what} has {dim - 1} columns, expected {dim}: for odd dim append one zero column at the end "
                      "(2·(dim // 2) cos/sin columns + 1).",
                   zh=f"{what} 有 {dim - 1} 列，应为 {dim} 列：dim 为奇数时要在末尾加一列 0（2·(dim // 2) 列 cos/sin + 1）。"))
    expect_tensor(out, what, shape=(len(t), dim), dtype=torch.float32)
    return out, what


def test_matches_the_closed_form_for_integer_steps(impl):
    t = torch.tensor([0.0, 1.0, 10.0, 250.0, 999.0])
    out, what = call(impl, t, 16)
    expect_close(out, oracle(t, 16).float(), what, atol=ATOL_STEPS, rtol=0.0, hint=HINT, likely=likely_te_mistakes(t, 16))


def test_cosines_come_first_then_sines(impl):
    # At t = 0 every cosine is 1 and every sine 0: the first half must be all ones, the second all zeros.
    out, what = call(impl, torch.zeros(2), 8)
    want = torch.tensor([[1.0] * 4 + [0.0] * 4] * 2)
    expect_close(out, want, say(en=f"{what} at t = 0", zh=f"t = 0 时的 {what}"), atol=1e-6, rtol=0.0,
                 hint=say(en="At t = 0 the embedding must be [1, 1, 1, 1, 0, 0, 0, 0]: cat([cos, sin]) — cosines FIRST "
                             "(ADM and DiT), not sines first as in the Transformer's positional encoding, and the two "
                             "halves concatenated, not interleaved cos, sin, cos, sin.",
                          zh="t = 0 时嵌入必须是 [1, 1, 1, 1, 0, 0, 0, 0]：cat([cos, sin])——余弦在前（ADM 和 DiT），"
                             "而不是像 Transformer 位置编码那样正弦在前；两半是拼接，而不是 cos、sin、cos、sin 交错。"),
                 likely=likely_te_mistakes(torch.zeros(2), 8))
    t = torch.tensor([0.3, 2.0])
    out, what = call(impl, t, 8)
    expect_close(out, oracle(t, 8).float(), what, atol=ATOL_UNIT, rtol=0.0, hint=HINT, likely=likely_te_mistakes(t, 8))


def test_fractional_timesteps_are_not_rounded(impl):
    # Continuous-time models (flow matching, EDM) pass t in [0, 1]; DDIM may pass non-integer steps.
    t = torch.tensor([0.05, 0.37, 0.5, 0.93, 2.5])
    out, what = call(impl, t, 10)
    expect_close(out, oracle(t, 10).float(), what, atol=ATOL_UNIT, rtol=0.0,
                 hint=say(en="t may be fractional: keep it as a float (t.float()), never .long(), .int() or round(). ",
                          zh="t 可以是小数：保持为浮点数（t.float()），不要 .long()、.int() 或 round()。") + HINT,
                 likely=likely_te_mistakes(t, 10))


def test_frequencies_run_from_1_down_to_max_period_to_the_minus_i_over_half(impl):
    # For tiny t, sin(t·f_i) ≈ t·f_i: the sine half divided by t reveals the frequencies.
    dim, t0 = 8, 1e-3
    out, what = call(impl, torch.tensor([t0]), dim)
    got = out[0, dim // 2:].double() / t0
    want = torch.tensor([10000 ** (-i / 4) for i in range(4)], dtype=torch.float64)
    worst = int(((got - want).abs() / want).argmax())
    expect(bool(((got - want).abs() <= 1e-3 * want).all()),
           say(en=f"{what} at t = {t0}: the sine half divided by t gives the frequencies "
                  f"{[round(v, 6) for v in got.tolist()]}, expected f_i = 10000^(−i/4) = "
                  f"{[round(v, 6) for v in want.tolist()]} (worst i = {worst}). The exponent is i/half with "
                  "half = dim // 2, so f_0 = 1 and the lowest frequency is max_period^(−(half−1)/half); dividing by "
                  "half − 1 (lowest = 1/max_period) or by dim is another embedding.",
               zh=f"t = {t0} 时的 {what}：正弦那一半除以 t 得到的频率是 {[round(v, 6) for v in got.tolist()]}，"
                  f"应为 f_i = 10000^(−i/4) = {[round(v, 6) for v in want.tolist()]}（偏差最大处 i = {worst}）。"
                  "指数是 i/half，half = dim // 2，所以 f_0 = 1，最低频率是 max_period^(−(half−1)/half)；"
                  "除以 half − 1（最低频率 = 1/max_period）或除以 dim 得到的是另一种嵌入。"))


def test_odd_dim_appends_one_zero_column(impl):
    t = torch.tensor([0.0, 3.0, 41.5, 700.0])
    out, what = call(impl, t, 7)
    expect(bool((out[:, -1] == 0).all()),
           say(en=f"{what}: the last column must be 0 for odd dim (padding), got {out[:, -1].tolist()}. Use "
                  "half = dim // 2 cosines and half sines, then append one zero column.",
               zh=f"{what}：dim 为奇数时最后一列必须是 0（填充），实际是 {out[:, -1].tolist()}。"
                  "用 half = dim // 2 个余弦和 half 个正弦，再在末尾加一列 0。"))
    expect_close(out, oracle(t, 7).float(), what, atol=ATOL_STEPS, rtol=0.0,
                 hint=say(en="For odd dim, half = dim // 2 (3 for dim = 7): 3 cosines, 3 sines, then a zero column at "
                             "the END. ",
                          zh="dim 为奇数时 half = dim // 2（dim = 7 时为 3）：3 个余弦、3 个正弦，然后在末尾加一列 0。")
                 + HINT, likely=likely_te_mistakes(t, 7))


def test_max_period_sets_the_lowest_frequency(impl):
    t = torch.tensor([0.0, 1.0, 7.0, 50.0])
    for max_period in (100, 10.0):
        out, what = call(impl, t, 12, max_period)
        expect_close(out, oracle(t, 12, max_period).float(), what, atol=1e-5, rtol=0.0,
                     hint=say(en="Use the max_period argument in f_i = exp(−ln(max_period)·i/half), not a hard-coded "
                                 "10000.",
                              zh="在 f_i = exp(−ln(max_period)·i/half) 中使用参数 max_period，不要写死 10000。"),
                     likely=likely_te_mistakes(t, 12, max_period))


def test_deterministic_and_does_not_modify_t(impl):
    t = torch.tensor([3.0, 0.25, 999.0])
    before = t.clone()
    out = expect_deterministic(impl.timestep_embedding, t, 6, what="timestep_embedding(t, 6)")
    expect_unchanged(before, t, say(en="the timesteps t", zh="时间步 t"))
    expect_close(out, oracle(t, 6).float(), "timestep_embedding(t, 6)", atol=ATOL_STEPS, rtol=0.0, hint=HINT,
                 likely=likely_te_mistakes(t, 6))


@given(st.integers(1, 5), st.integers(2, 12), st.sampled_from([10, 1000, 10000]), st.integers(0, 2**16))
def test_property_any_batch_dim_and_period(impl, B, dim, max_period, seed):
    t = torch.rand(B, generator=torch.Generator().manual_seed(seed)) * 1000
    out, what = call(impl, t, dim, max_period)
    expect_close(out, oracle(t, dim, max_period).float(), f"{what}, t = {[round(v, 3) for v in t.tolist()]}",
                 atol=ATOL_STEPS, rtol=0.0, hint=HINT, likely=likely_te_mistakes(t, dim, max_period))
