"""groupwise-quantization: asymmetric min–max quantization per group of consecutive input columns.

The oracle is the closed form in float64 with an explicit loop over groups. Where w / scale or −min / scale lies
within 1e-3 + 1e-6·|value| of a rounding boundary (float32 rounding grows with the ratio, large when a group's range
is tiny next to its values) a correct float32 implementation may round either way, so those codes (and whole groups
whose zero point is that close) may differ by one step; the test data keeps such cases rare.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged, say

HINT = say(en="Per row, groups of group_size CONSECUTIVE input columns (w.reshape(out, in // group_size, group_size)); "
              "per group scale = (max − min) / (2**bits − 1), zero = round(−min / scale), q = clamp(round(w / scale) + "
              "zero, 0, 2**bits − 1) as uint8; dequantize (q − zero) · scale.",
           zh="每一行按 group_size 个【相邻】的输入列分组（w.reshape(out, in // group_size, group_size)）；"
              "每组 scale = (max − min) / (2**bits − 1)，zero = round(−min / scale)，q = clamp(round(w / scale) + "
              "zero, 0, 2**bits − 1)，存为 uint8；去量化为 (q − zero) · scale。")
STRIDED = say(en="groups of strided columns (a reshape to (out, group_size, in // group_size) reduced over dim 1); "
                 "group j is columns j·group_size … (j + 1)·group_size − 1: reshape to (out, in // group_size, "
                 "group_size) and reduce over the last dim.",
              zh="按跨步的列分了组（reshape 成 (out, group_size, in // group_size) 后在 dim 1 上归约）；"
                 "第 j 组是第 j·group_size … (j + 1)·group_size − 1 列：应 reshape 成 (out, in // group_size, "
                 "group_size) 并在最后一维上归约。")
OFF_BY_ONE = say(en="scale = (max − min) / 2**bits; 2**bits levels have 2**bits − 1 steps between them, so divide by "
                    "2**bits − 1.",
                 zh="scale 算成了 (max − min) / 2**bits；2**bits 个量化级之间只有 2**bits − 1 个间隔，应除以 2**bits − 1。")
MINUS_MIN = say(en="q = round((w − min) / scale): the codes do not share the rounding of the zero point, so (q − zero) · "
                   "scale is off by a step; compute q = round(w / scale) + zero.",
                zh="q 算成了 round((w − min) / scale)：码值没有共用零点的舍入，(q − zero) · scale 会差一个步长；"
                   "应计算 q = round(w / scale) + zero。")
ZERO_CLAMPED = say(en="the zero point clamped into [0, 2**bits − 1]; keep zero = round(−min / scale) as computed (it may "
                      "be negative or above 2**bits − 1: store it in a signed or float dtype) and clamp only q.",
                   zh="把零点截断到了 [0, 2**bits − 1]；zero = round(−min / scale) 要原样保留（它可以为负，也可以大于 "
                      "2**bits − 1：用有符号或浮点 dtype 存储），只对 q 做截断。")


def likely_scale_mistakes(w, group_size, bits):
    n_out, n_in = w.shape
    levels = 2 ** bits - 1
    strided = w.double().reshape(n_out, group_size, n_in // group_size)
    grouped = w.double().reshape(n_out, n_in // group_size, group_size)
    return (((strided.amax(1) - strided.amin(1)) / levels).float(), STRIDED),\
        (((grouped.amax(-1) - grouped.amin(-1)) / 2 ** bits).float(), OFF_BY_ONE)


def likely_code_mistakes(w, group_size, bits, scale, zero):
    """The codes the usual mistakes give (from the oracle's scale and zero), each with its cause."""
    levels = 2 ** bits - 1
    s = scale.repeat_interleave(group_size, dim=1)
    z = zero.repeat_interleave(group_size, dim=1)
    lo = w.double().reshape(w.shape[0], -1, group_size).amin(-1).repeat_interleave(group_size, dim=1)
    safe = torch.where(s > 0, s, torch.ones_like(s))
    return ((torch.round((w.double() - lo) / safe).clamp(0, levels), MINUS_MIN),
            ((torch.round(w.double() / safe) + z.clamp(0, levels)).clamp(0, levels), ZERO_CLAMPED))


def oracle(w, group_size, bits):
    """Float64 loop over groups: q, scale, zero (float64) and a mask of codes near a rounding boundary."""
    n_out, n_in = w.shape
    levels = 2 ** bits - 1
    w64 = w.double()
    q = torch.zeros(n_out, n_in, dtype=torch.float64)
    near = torch.zeros(n_out, n_in, dtype=torch.bool)
    scale = torch.zeros(n_out, n_in // group_size, dtype=torch.float64)
    zero = torch.zeros_like(scale)
    for o in range(n_out):
        for j in range(n_in // group_size):
            cols = slice(j * group_size, (j + 1) * group_size)
            lo, hi = w64[o, cols].min(), w64[o, cols].max()
            s = (hi - lo) / levels
            scale[o, j] = s
            if s == 0:
                continue  # constant group: stand-in scale of the implementation's choice
            z_real = -lo / s
            zero[o, j] = torch.round(z_real)
            ratio = w64[o, cols] / s
            q[o, cols] = (torch.round(ratio) + zero[o, j]).clamp(0, levels)
            # float32 computes w / scale with a relative error of a few 1e-7, which matters when |w| ≫ max − min
            z_near = abs(z_real - torch.floor(z_real) - 0.5) < 1e-3 + 1e-6 * abs(z_real)
            near[o, cols] = ((ratio - ratio.floor() - 0.5).abs() < 1e-3 + 1e-6 * ratio.abs()) | z_near
    return q, scale, zero, near


def quantize(impl, w, group_size, bits=None):
    w_in = w.clone()
    result = (impl.quantize_groupwise(w_in, group_size) if bits is None
              else impl.quantize_groupwise(w_in, group_size, bits=bits))
    expect(isinstance(result, tuple) and len(result) == 3,
           say(en=f"quantize_groupwise should return a tuple (q, scale, zero), got {type(result).__name__}",
               zh=f"quantize_groupwise 应返回元组 (q, scale, zero)，实际得到 {type(result).__name__}"))
    expect_unchanged(w, w_in, say(en="w passed to quantize_groupwise", zh="传给 quantize_groupwise 的 w"))
    return result


def check_closed_form(impl, w, group_size, bits, what):
    q, scale, zero = quantize(impl, w, group_size, bits)
    want_q, want_scale, want_zero, near = oracle(w, group_size, 4 if bits is None else bits)
    n_out, n_in = w.shape
    expect_tensor(q, say(en=f"q from {what.en}", zh=f"{what.zh}返回的 q"), shape=(n_out, n_in), dtype=torch.uint8)
    expect_tensor(scale, say(en=f"scale from {what.en}", zh=f"{what.zh}返回的 scale"),
                  shape=(n_out, n_in // group_size), dtype=torch.float32)
    expect_tensor(zero, say(en=f"zero from {what.en}", zh=f"{what.zh}返回的 zero"), shape=(n_out, n_in // group_size))
    expect_close(scale, want_scale.float(), say(en=f"scale from {what.en}", zh=f"{what.zh}返回的 scale"), atol=0.0,
                 rtol=1e-6, hint=say(en="scale = (max − min) / (2**bits − 1): 2**bits levels have 2**bits − 1 steps "
                                        "between them. " + HINT.en,
                                     zh="scale = (max − min) / (2**bits − 1)：2**bits 个量化级之间有 2**bits − 1 个间隔。"
                                        + HINT.zh),
                 likely=likely_scale_mistakes(w, group_size, 4 if bits is None else bits))
    zero_near = near.reshape(n_out, n_in // group_size, group_size).any(-1)
    zero_bad = ((zero.double() - want_zero).abs() > 0) & ~zero_near
    if zero_bad.any():
        idx = tuple(int(i) for i in zero_bad.nonzero()[0])
        got_z, want_z = zero[idx].item(), want_zero[idx].item()
        expect(False, say(en=f"zero from {what.en} is wrong at group {idx}: got {got_z:g}, expected {want_z:g} = "
                             "round(−min / scale) — the zero point is NOT clamped to [0, 2**bits − 1] and may be "
                             "negative (store it in a signed or float dtype, not uint8).",
                          zh=f"{what.zh}返回的 zero 在第 {idx} 组不对：得到 {got_z:g}，应为 {want_z:g} = "
                             "round(−min / scale)——零点【不】截断到 [0, 2**bits − 1]，可以为负"
                             "（用有符号或浮点 dtype 存储，不要用 uint8）。"))

    def wrong_codes(want):
        diff = (q.double() - want).abs()
        return (diff > 0) & ~near | (diff > 1)

    bad = wrong_codes(want_q)
    if bad.any():
        idx = tuple(int(i) for i in bad.nonzero()[0])
        cause = HINT
        for alt, c in likely_code_mistakes(w, group_size, 4 if bits is None else bits, want_scale, want_zero):
            if not wrong_codes(alt).any():
                cause = say(en="Your result is exactly what a known mistake gives: " + c.en,
                            zh="你的结果与一个常见错误的结果完全一致：" + c.zh)
                break
        n_bad, got_q, w_i = int(bad.sum()), int(q[idx]), w[idx].item()
        expect(False, say(en=f"q from {what.en} is wrong at {n_bad} of {q.numel()} entries; at index {idx} got "
                             f"{got_q}, expected {int(want_q[idx])} (w = {w_i:.6g}). {cause.en}",
                          zh=f"{what.zh}返回的 q 有 {n_bad}/{q.numel()} 个元素不对；在索引 {idx} 处得到 "
                             f"{got_q}，应为 {int(want_q[idx])}（w = {w_i:.6g}）。{cause.zh}"))
    return q, scale, zero


def test_matches_the_closed_form_4_bits(impl):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 32, generator=g)
    check_closed_form(impl, w, 8, None, say(en="quantize_groupwise(w (4, 32), group_size=8) with the default bits=4",
                                            zh="使用默认 bits=4 的 quantize_groupwise(w (4, 32), group_size=8) "))


def test_bits_2_4_8(impl):
    g = torch.Generator().manual_seed(1)
    w = 0.2 * torch.randn(3, 24, generator=g) + 0.05
    for bits in (2, 4, 8):
        call = f"quantize_groupwise(w (3, 24), group_size=6, bits={bits})"
        q, _, _ = check_closed_form(impl, w, 6, bits, say(en=call, zh=f"{call} "))
        groups = q.to(torch.int32).reshape(3, 4, 6)
        lows, highs = groups.amin(-1).tolist(), groups.amax(-1).tolist()
        expect(bool((groups.amin(-1) == 0).all()) and bool((groups.amax(-1) == 2 ** bits - 1).all()),
               say(en=f"{call}: every group's codes must span 0 … {2 ** bits - 1} (its min maps to 0, its max to "
                      f"2**bits − 1), got per-group minima {lows} and maxima {highs}.",
                   zh=f"{call}：每组的码值必须覆盖 0 … {2 ** bits - 1}（组内最小值映射到 0，最大值映射到 "
                      f"2**bits − 1），实际各组最小码值为 {lows}，最大码值为 {highs}。"))


def test_groups_are_consecutive_input_columns(impl):
    # Columns 0-3 are tiny, 4-7 large, 8-11 tiny again: each block of 4 consecutive columns is one group.
    w = torch.tensor([[0.01, -0.02, 0.015, 0.0, 5.0, -3.0, 2.0, 1.0, 0.1, 0.3, -0.2, 0.25],
                      [1.0, 2.0, 3.0, 4.5, -10.0, 10.0, 0.5, 0.7, -0.01, 0.01, 0.0, 0.005]])
    call = "quantize_groupwise(w (2, 12), group_size=4)"
    _, scale, _ = check_closed_form(impl, w, 4, 4, say(en=call, zh=f"{call} "))
    want = torch.tensor([[0.035, 8.0, 0.5], [3.5, 20.0, 0.02]]) / 15
    expect_close(scale, want, say(en=f"scale from {call}", zh=f"{call} 返回的 scale"), atol=0.0, rtol=1e-5,
                 hint=say(en="Group j of a row is columns 4j … 4j + 3 (reshape to (out, in // group_size, group_size)); "
                             "not every (in // group_size)-th column, and not groups of rows.",
                          zh="一行中的第 j 组是第 4j … 4j + 3 列（reshape 成 (out, in // group_size, group_size)）；"
                             "不是每隔 in // group_size 列取一列，也不是按行分组。"),
                 likely=likely_scale_mistakes(w, 4, 4))


def test_round_trip_error_is_at_most_half_a_step(impl):
    g = torch.Generator().manual_seed(2)
    w = torch.randn(5, 48, generator=g) * torch.logspace(-2, 1, 5).unsqueeze(1)
    for bits in (2, 4, 8):
        q, scale, zero = quantize(impl, w, 16, bits)
        deq = impl.dequantize_groupwise(q, scale, zero, 16)
        what = f"dequantize_groupwise(quantize_groupwise(w (5, 48), 16, bits={bits}))"
        expect_tensor(deq, what, shape=(5, 48), dtype=torch.float32)
        _, want_scale, _, _ = oracle(w, 16, bits)
        step = want_scale.repeat_interleave(16, dim=1)
        err = (deq.double() - w.double()).abs()
        allowed = step * (0.5 + 1e-4) + 1e-6 * w.double().abs()
        worst = int((err - allowed).argmax())
        e, half = err.flatten()[worst].item(), step.flatten()[worst].item() / 2
        expect(bool((err <= allowed).all()),
               say(en=f"{what}: the error at flat index {worst} is {e:.4g}, more than half a step ({half:.4g}) — round "
                      "w / scale to the nearest integer, add the zero point once, and dequantize with (q − zero) · "
                      "scale of the same group. " + HINT.en,
                   zh=f"{what}：展平后索引 {worst} 处的误差为 {e:.4g}，超过了半个步长（{half:.4g}）——把 w / scale "
                      "四舍五入到最近的整数，只加一次零点，并用同一组的 (q − zero) · scale 去量化。" + HINT.zh))


def test_zero_point_may_lie_outside_the_code_range(impl):
    # Groups entirely above or below 0: −min / scale is far outside [0, 15].
    w = torch.tensor([[5.0, 5.3, 5.9, 6.0, -8.0, -7.1, -7.5, -7.0]])
    q, scale, zero = check_closed_form(impl, w, 4, 4, say(en="quantize_groupwise on groups in [5, 6] and [-8, -7]",
                                                          zh="各组取值在 [5, 6] 和 [-8, -7] 时的 quantize_groupwise "))
    deq = impl.dequantize_groupwise(q, scale, zero, 4)
    expect_close(deq, w, say(en="round trip of groups in [5, 6] and [-8, -7] (4 bits)",
                             zh="各组取值在 [5, 6] 和 [-8, -7] 时的量化—去量化往返（4 比特）"), atol=1 / 30 + 1e-5, rtol=0.0,
                 hint=say(en="zero = round(−min / scale) is −75 and 120 here: keep it as computed (signed or float dtype), "
                             "do not clamp it into [0, 15] or store it as uint8.",
                          zh="这里 zero = round(−min / scale) 分别是 −75 和 120：要原样保留（有符号或浮点 dtype），"
                             "不要截断到 [0, 15]，也不要存成 uint8。"))


def test_constant_groups_dequantize_to_their_value(impl):
    w = torch.tensor([[0.7, 0.7, 0.7, 0.7, 1.0, 2.0, 3.0, 4.0],
                      [0.0, 0.0, 0.0, 0.0, -3.2, -3.2, -3.2, -3.2],
                      [123.456, 123.456, 123.456, 123.456, -0.3, 0.3, 0.1, 0.2]])
    q, scale, zero = quantize(impl, w, 4, 4)
    expect_tensor(q, say(en="q from quantize_groupwise with constant groups", zh="有常数组时 quantize_groupwise 返回的 q"),
                  shape=(3, 8), dtype=torch.uint8)
    expect_tensor(scale, say(en="scale from quantize_groupwise with constant groups",
                             zh="有常数组时 quantize_groupwise 返回的 scale"), shape=(3, 2), dtype=torch.float32)
    expect(bool(torch.isfinite(scale).all()) and bool(torch.isfinite(zero.double()).all()),
           say(en=f"scale and zero must be finite for constant groups (max = min), got scale {scale.tolist()} and zero "
                  f"{zero.tolist()} — (max − min) / 15 is 0 there, and −min / 0 is ±inf or NaN: choose a stand-in "
                  "scale.",
               zh=f"常数组（max = min）的 scale 和 zero 必须是有限值，实际 scale 为 {scale.tolist()}，zero 为 "
                  f"{zero.tolist()}——此时 (max − min) / 15 为 0，−min / 0 是 ±inf 或 NaN：要给这些组选一个替代的 scale。"))
    deq = impl.dequantize_groupwise(q, scale, zero, 4)
    expect_tensor(deq, say(en="dequantize_groupwise on constant groups", zh="常数组上的 dequantize_groupwise"),
                  shape=(3, 8), dtype=torch.float32)
    constant = torch.stack([deq[0, :4], deq[1, 4:], deq[2, :4], deq[1, :4]])  # the groups 0.7, −3.2, 123.456, 0
    want = torch.tensor([0.7, -3.2, 123.456, 0.0]).unsqueeze(1).expand(4, 4)
    expect_close(constant, want, say(en="dequantize_groupwise(quantize_groupwise(w)) on the constant groups 0.7, −3.2, "
                                        "123.456 and 0",
                                     zh="常数组 0.7、−3.2、123.456 和 0 上的 dequantize_groupwise(quantize_groupwise(w))"),
                 atol=1e-6, rtol=1e-6,
                 hint=say(en="A constant group must come back as its value. With a stand-in scale of 1, round(c) + "
                             "round(−c) = 0 gives q = 0 and (0 − zero) · 1 = round(c), not c; pick a stand-in such that "
                             "c / scale is an integer, e.g. scale = |c| (and 1 for c = 0).",
                          zh="常数组必须还原成它自己的值。替代 scale 取 1 时，round(c) + round(−c) = 0 得到 q = 0，"
                             "(0 − zero) · 1 = round(c)，而不是 c；替代 scale 要让 c / scale 是整数，例如 scale = |c|"
                             "（c = 0 时取 1）。"))


def test_dequantize_against_a_loop(impl):
    g = torch.Generator().manual_seed(3)
    q = torch.randint(0, 16, (3, 12), generator=g).to(torch.uint8)
    scale = torch.rand(3, 4, generator=g) + 0.1
    zero = torch.tensor([[3.0, -7.0, 20.0, 0.0], [15.0, 8.0, -1.0, 4.0], [0.0, 0.0, 30.0, -30.0]])
    want = torch.zeros(3, 12, dtype=torch.float64)
    for o in range(3):
        for i in range(12):
            want[o, i] = (int(q[o, i]) - zero[o, i // 3].item()) * scale[o, i // 3].item()
    got = impl.dequantize_groupwise(q, scale, zero, 3)
    expect_close(got, want.float(), say(en="dequantize_groupwise(q (3, 12), scale (3, 4), zero (3, 4) with negative "
                                           "entries, group_size=3)",
                                        zh="zero 含负数时的 dequantize_groupwise(q (3, 12), scale (3, 4), zero (3, 4), "
                                           "group_size=3)"), atol=1e-5, rtol=1e-6,
                 hint=say(en="Element (o, i) uses group i // group_size of row o: (q − zero) · scale. Convert q to "
                             "float BEFORE subtracting (uint8 arithmetic wraps around below 0).",
                          zh="元素 (o, i) 用第 o 行的第 i // group_size 组：(q − zero) · scale。相减【之前】先把 q "
                             "转成浮点（uint8 运算低于 0 会回绕）。"))


def test_deterministic(impl):
    g = torch.Generator().manual_seed(4)
    w = torch.randn(2, 8, generator=g)
    expect_deterministic(impl.quantize_groupwise, w, 4, what="quantize_groupwise(w (2, 8), 4)")


@given(st.integers(1, 4), st.integers(1, 4), st.sampled_from([2, 4, 8]), st.sampled_from([2, 4, 8]),
       st.integers(0, 2**16))
def test_property_shapes_and_bits(impl, n_out, n_groups, group_size, bits, seed):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n_out, n_groups * group_size, generator=g)
    what = f"quantize_groupwise(w {tuple(w.shape)}, group_size={group_size}, bits={bits})"
    q, scale, zero = check_closed_form(impl, w, group_size, bits, say(en=what, zh=f"{what} "))
    deq = impl.dequantize_groupwise(q, scale, zero, group_size)
    step = scale.double().repeat_interleave(group_size, dim=1)
    expect(bool(((deq.double() - w.double()).abs() <= step * (0.5 + 1e-4) + 1e-6).all()),
           say(en=f"round trip of {what} is off by more than half a step. {HINT.en}",
               zh=f"{what} 的量化—去量化往返误差超过了半个步长。{HINT.zh}"))
