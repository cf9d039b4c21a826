"""int8-absmax-quantization: scale = max|x| / 127 per slice along `dim`, q = round(x / scale) as int8.

The oracle is the closed form in float64. Where x / scale lies within 1e-3 of a rounding boundary (k + 1/2), a
correct float32 implementation may land on either side, so those entries are allowed to differ by one step.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.overrides import TorchFunctionMode

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged, say

HINT = say(en="scale = x.abs().amax(dim, keepdim=True) / 127 (one per slice, float32); q = torch.round(x / scale)"
              ".clamp(-127, 127).to(torch.int8); dequantize = q.float() * scale.",
           zh="scale = x.abs().amax(dim, keepdim=True) / 127（每个切片一个，float32）；q = torch.round(x / scale)"
              ".clamp(-127, 127).to(torch.int8)；去量化 = q.float() * scale。")
FORGETS_ABS = say(en="scale from max x instead of max |x|; a slice dominated by negative values then clips — use "
                     "x.abs().amax(dim, keepdim=True) / 127.",
                  zh="scale 用的是 max x 而不是 max |x|；以负值为主的切片会被截断——应使用 x.abs().amax(dim, keepdim=True) / 127。")
PER_TENSOR = say(en="one scale for the whole tensor (max |x| over every element); reduce over `dim` only, keepdim=True, "
                    "so each slice gets its own scale.",
                 zh="整个张量只用了一个 scale（对所有元素取 max |x|）；应只在 `dim` 上归约（keepdim=True），"
                    "让每个切片有自己的 scale。")
TRUNCATES = say(en="x / scale truncated toward zero (.to(torch.int8) or .trunc() without rounding); round to the nearest "
                   "integer with torch.round first.",
                zh="x / scale 被向零截断了（直接 .to(torch.int8) 或 .trunc()，没有四舍五入）；应先用 torch.round "
                   "取最近的整数。")


def likely_scale_mistakes(x, dim):
    x64 = x.double()
    return (((x64.amax(dim=dim, keepdim=True) / 127).float(), FORGETS_ABS),
            ((x64.abs().max() / 127).expand_as(x64.abs().amax(dim=dim, keepdim=True)).float(), PER_TENSOR))


def oracle(x, dim=-1):
    """Float64 closed form: (q as float64, scale float64, distance of x/scale to the nearest half-integer)."""
    x64 = x.double()
    scale = x64.abs().amax(dim=dim, keepdim=True) / 127
    ratio = x64 / torch.where(scale > 0, scale, torch.ones_like(scale))
    q = torch.round(ratio).clamp(-127, 127)
    to_half = (ratio - ratio.floor() - 0.5).abs()
    return q, scale, to_half


def quantize(impl, x, dim=None):
    x_in = x.clone()
    result = impl.quantize_absmax(x_in) if dim is None else impl.quantize_absmax(x_in, dim=dim)
    expect(isinstance(result, tuple) and len(result) == 2,
           say(en=f"quantize_absmax should return a tuple (q, scale), got {type(result).__name__}",
               zh=f"quantize_absmax 应返回元组 (q, scale)，实际得到 {type(result).__name__}"))
    expect_unchanged(x, x_in, say(en="x passed to quantize_absmax", zh="传给 quantize_absmax 的 x"))
    return result


def check_against_closed_form(impl, x, dim, what):
    q, scale = quantize(impl, x, dim)
    want_q, want_scale, to_half = oracle(x, -1 if dim is None else dim)
    q_what, scale_what = say(en=f"q from {what.en}", zh=f"{what.zh}返回的 q"), \
        say(en=f"scale from {what.en}", zh=f"{what.zh}返回的 scale")
    expect_tensor(q, q_what, shape=tuple(x.shape), dtype=torch.int8)
    expect_tensor(scale, scale_what, shape=tuple(want_scale.shape), dtype=torch.float32)
    bad_scale = scale[~torch.isfinite(scale)].tolist()
    expect(bool(torch.isfinite(scale).all()),
           say(en=f"scale from {what.en} has non-finite entries {bad_scale} — an all-zero slice needs a finite scale "
                  "(0, or any stand-in such as 1), not 0 / 0.",
               zh=f"{what.zh}返回的 scale 含有非有限值 {bad_scale}——全零切片需要一个有限的 scale"
                  "（0，或任意替代值如 1），而不是 0 / 0。"))
    nonzero = want_scale > 0  # an all-zero slice may carry any finite stand-in scale
    d = -1 if dim is None else dim
    expect_close(torch.where(nonzero, scale, torch.zeros_like(scale)), want_scale.float(), scale_what,
                 atol=0.0, rtol=1e-6,
                 hint=say(en="scale = max |x| / 127 over `dim` only (one per slice, keepdim=True) — not over the whole "
                             "tensor, not max x (the absolute value matters), not / 128 or / 255.",
                          zh="scale = max |x| / 127，只在 `dim` 上取（每个切片一个，keepdim=True）——不是对整个张量取，"
                             "不是 max x（要取绝对值），也不是除以 128 或 255。"),
                 likely=tuple((torch.where(nonzero, r, torch.zeros_like(r)), c) for r, c in likely_scale_mistakes(x, d)))
    diff = (q.double() - want_q).abs()
    far = to_half > 1e-3
    bad = (far & (diff > 0)) | (diff > 1)
    if bad.any():
        idx = tuple(int(i) for i in bad.nonzero()[0])
        ratio = x.double() / torch.where(want_scale > 0, want_scale, torch.ones_like(want_scale))
        t_diff = (q.double() - ratio.trunc().clamp(-127, 127)).abs()
        near_int = (ratio - ratio.round()).abs() < 1e-3  # float32 may land on either side of an integer there
        truncated = not bool(((t_diff > 0) & ~near_int | (t_diff > 1)).any())
        cause = say(en="Your result is exactly what a known mistake gives: " + TRUNCATES.en,
                    zh="你的结果与一个常见错误的结果完全一致：" + TRUNCATES.zh) if truncated else HINT
        n_bad, got_q, want_i = int(bad.sum()), int(q[idx]), int(want_q[idx])
        x_i, r_i = x[idx].item(), (x[idx].double() / want_scale.expand_as(x)[idx]).item()
        expect(False, say(en=f"q from {what.en} is wrong at {n_bad} entries; at index {idx} got {got_q}, expected "
                             f"{want_i} (x = {x_i:.6g}, x / scale = {r_i:.4f}) — round to the NEAREST integer "
                             f"(torch.round), do not truncate with .to(torch.int8) or floor. {cause.en}",
                          zh=f"{what.zh}返回的 q 有 {n_bad} 个元素不对；在索引 {idx} 处得到 {got_q}，应为 {want_i}"
                             f"（x = {x_i:.6g}，x / scale = {r_i:.4f}）——要取【最近】的整数（torch.round），不要用 "
                             f".to(torch.int8) 或 floor 截断。{cause.zh}"))


def test_matches_the_closed_form_per_row(impl):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 16, generator=g) * torch.tensor([[0.01], [1.0], [30.0], [0.5], [2.0]])
    check_against_closed_form(impl, x, None, say(en="quantize_absmax(x (5, 16)) with rows of very different sizes",
                                                 zh="各行量级相差很大时 quantize_absmax(x (5, 16)) "))


def test_round_half_to_even(impl):
    # max |x| = 127, so scale = 1 exactly and x / scale is exact: the halves are true ties.
    x = torch.tensor([[127.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.4, -3.6]])
    q, scale = quantize(impl, x)
    expect_tensor(q, say(en="q from quantize_absmax on a row with max |x| = 127", zh="max |x| = 127 的行上 quantize_absmax 返回的 q"),
                  shape=(1, 9), dtype=torch.int8)
    want = torch.tensor([[127, 0, 2, 2, 0, -2, -2, 3, -4]], dtype=torch.int8)
    away = torch.tensor([[127, 1, 2, 3, -1, -2, -3, 3, -4]], dtype=torch.int8)  # sign(v)·floor(|v| + 0.5)
    floor_half = torch.tensor([[127, 1, 2, 3, 0, -1, -2, 3, -4]], dtype=torch.int8)  # floor(v + 0.5)
    truncated = torch.tensor([[127, 0, 1, 2, 0, -1, -2, 3, -3]], dtype=torch.int8)  # .to(torch.int8) alone
    if torch.equal(q, truncated):
        cause = say(en="Your result is x / scale truncated toward zero (.to(torch.int8) alone); round first with "
                       "torch.round.",
                    zh="你的结果是把 x / scale 向零截断（只用了 .to(torch.int8)）；要先用 torch.round 取整。")
    elif torch.equal(q, away):
        cause = say(en="Your result is rounding half away from zero (sign(v)·floor(|v| + 0.5), as C's round); "
                       "use torch.round, which rounds half to even.",
                    zh="你的结果是远离零的四舍五入（sign(v)·floor(|v| + 0.5)，与 C 的 round 相同）；"
                       "应使用 torch.round，它把 .5 舍入到偶数。")
    elif torch.equal(q, floor_half):
        cause = say(en="Your result is floor(v + 0.5), which rounds every half up; use torch.round (half to even).",
                    zh="你的结果是 floor(v + 0.5)，所有 .5 都向上舍入；应使用 torch.round（舍入到偶数）。")
    else:
        cause = say(en="floor(x + 0.5) or rounding half away from zero breaks ties the wrong way, and .to(torch.int8) "
                       "alone truncates toward zero.",
                    zh="floor(x + 0.5) 或远离零的舍入会把 .5 舍错方向，只用 .to(torch.int8) 则是向零截断。")
    expect(torch.equal(q, want),
           say(en=f"quantize_absmax([[127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.4, -3.6]]) (scale exactly 1) gave q = "
                  f"{q.tolist()}, expected {want.tolist()}: ties round half to EVEN as torch.round does (0.5 → 0, "
                  f"2.5 → 2, −1.5 → −2). {cause.en}",
               zh=f"quantize_absmax([[127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.4, -3.6]])（scale 恰为 1）得到 q = "
                  f"{q.tolist()}，应为 {want.tolist()}：恰在 .5 处要像 torch.round 那样舍入到偶数（0.5 → 0，"
                  f"2.5 → 2，−1.5 → −2）。{cause.zh}"))


def test_dequantization_error_is_at_most_half_a_step(impl):
    g = torch.Generator().manual_seed(1)
    x = 3 * torch.randn(6, 33, generator=g)
    q, scale = quantize(impl, x)
    deq = impl.dequantize(q, scale)
    expect_tensor(deq, "dequantize(q, scale)", shape=(6, 33), dtype=torch.float32)
    _, want_scale, _ = oracle(x)
    err = (deq.double() - x.double()).abs()
    allowed = (want_scale * (0.5 + 1e-4)).expand_as(err)  # half a step, plus float32 rounding
    worst = int((err - allowed).argmax())
    e, half = err.flatten()[worst].item(), allowed.flatten()[worst].item()
    divides = torch.allclose(deq, q.float() / torch.where(scale > 0, scale, torch.ones_like(scale)), rtol=1e-5)
    cause = say(en="Your result is q / scale: dequantize multiplies, q.float() * scale.",
                zh="你的结果是 q / scale：去量化应该是乘法，q.float() * scale。") if divides else \
        say(en="Round (not truncate) and multiply back by the same scale (q * scale, not q / scale).",
            zh="要四舍五入（不是截断），并乘回同一个 scale（q * scale，不是 q / scale）。")
    expect(bool((err <= allowed).all()),
           say(en=f"|dequantize(q, scale) − x| must be ≤ scale / 2 (round to nearest); at flat index {worst} the error "
                  f"is {e:.4g} against a half-step of {half:.4g}. {cause.en}",
               zh=f"|dequantize(q, scale) − x| 必须 ≤ scale / 2（取最近的整数）；展平后索引 {worst} 处的误差为 {e:.4g}，"
                  f"而半个步长是 {half:.4g}。{cause.zh}"))


def test_every_nonzero_row_uses_the_full_range(impl):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(8, 10, generator=g) * torch.logspace(-3, 3, 8).unsqueeze(1)
    x[3] = -x[3].abs()  # a row of negative numbers: its extreme is its minimum
    q, _ = quantize(impl, x)
    expect_tensor(q, say(en="q from quantize_absmax(x (8, 10))", zh="quantize_absmax(x (8, 10)) 返回的 q"),
                  shape=(8, 10), dtype=torch.int8)
    peak = q.to(torch.int32).abs().amax(dim=-1)
    expect(bool((peak == 127).all()),
           say(en=f"in every non-zero row the largest |q| must be exactly 127 (the absmax maps to ±127), got per-row "
                  f"maxima {peak.tolist()} — take the max of |x| (not of x) per row and divide it by 127.",
               zh=f"每个非零行里最大的 |q| 必须恰好是 127（绝对值最大者映射到 ±127），实际各行最大值为 "
                  f"{peak.tolist()}——要对每行取 |x|（不是 x）的最大值再除以 127。"))


class WatchNaNCasts(TorchFunctionMode):
    """Records any torch operation that turns a float tensor holding NaN into an integer tensor (e.g. .to(int8))."""

    def __init__(self):
        super().__init__()
        self.op = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        src = args[0] if args else None
        if (self.op is None and isinstance(out, torch.Tensor) and isinstance(src, torch.Tensor)
                and src.is_floating_point() and not out.is_floating_point() and out.dtype != torch.bool
                and bool(torch.isnan(src).any())):
            self.op = getattr(func, "__name__", str(func))
        return out


def test_all_zero_rows_give_zeros_and_no_nan(impl):
    x = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1.0, -2.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0]])
    watch = WatchNaNCasts()
    with watch:
        q, scale = quantize(impl, x)
    expect(watch.op is None,
           say(en=f"quantize_absmax on all-zero rows cast NaN to an integer type (in `{watch.op}`): with scale 0, "
                  "x / scale is 0 / 0 = NaN, and what NaN becomes in int8 is undefined (0 on some machines only by "
                  "accident). Guard the division, e.g. divide by torch.where(scale > 0, scale, 1).",
               zh=f"quantize_absmax 在全零行上把 NaN 转成了整数类型（在 `{watch.op}` 中）：scale 为 0 时 x / scale "
                  "是 0 / 0 = NaN，而 NaN 转成 int8 的结果是未定义的（某些机器上得到 0 只是碰巧）。要保护这次除法，"
                  "例如除以 torch.where(scale > 0, scale, 1)。"))
    what = say(en="quantize_absmax with all-zero rows", zh="有全零行时 quantize_absmax ")
    expect_tensor(q, say(en="q from " + what.en, zh=what.zh + "返回的 q"), shape=(3, 4), dtype=torch.int8)
    expect_tensor(scale, say(en="scale from " + what.en, zh=what.zh + "返回的 scale"), shape=(3, 1), dtype=torch.float32)
    expect(bool(torch.isfinite(scale).all()),
           say(en=f"scale must be finite for an all-zero row, got {scale.flatten().tolist()} — guard the 0 / 0 (e.g. "
                  "divide by torch.where(scale > 0, scale, 1)).",
               zh=f"全零行的 scale 必须是有限值，实际为 {scale.flatten().tolist()}——要避免 0 / 0"
                  "（例如除以 torch.where(scale > 0, scale, 1)）。"))
    expect(bool((q[[0, 2]] == 0).all()),
           say(en=f"an all-zero row must quantize to q = 0, got {q[[0, 2]].tolist()}",
               zh=f"全零行量化后必须是 q = 0，实际为 {q[[0, 2]].tolist()}"))
    deq = impl.dequantize(q, scale)
    expect_close(deq[[0, 2]], torch.zeros(2, 4), say(en="dequantize of the all-zero rows", zh="全零行的 dequantize"),
                 atol=0.0, rtol=0.0, hint=say(en="An all-zero row must come back as zeros, with no NaN.",
                                              zh="全零行必须还原成全零，不能有 NaN。"))
    check_against_closed_form(impl, x, None, what)


def test_per_slice_not_per_tensor(impl):
    x = torch.tensor([[100.0, -50.0, 25.0], [0.011, -0.02, 0.004]])
    q, scale = quantize(impl, x)
    expect_close(scale, torch.tensor([[100.0 / 127], [0.02 / 127]]),
                 say(en="scale from quantize_absmax on rows of magnitude 100 and 0.02",
                     zh="两行量级分别为 100 和 0.02 时 quantize_absmax 返回的 scale"), atol=0.0, rtol=1e-6,
                 hint=say(en="One scale per row (reduce over `dim` only, keepdim=True); a single scale for the whole "
                             "tensor turns the small row into zeros.",
                          zh="每行一个 scale（只在 `dim` 上归约，keepdim=True）；整个张量只用一个 scale 会把小的那一行"
                             "量化成全零。"),
                 likely=likely_scale_mistakes(x, -1))
    expect(torch.equal(q[1], torch.tensor([70, -127, 25], dtype=torch.int8)),
           say(en=f"the small row [0.011, -0.02, 0.004] must quantize to [70, -127, 25] with its own scale, got "
                  f"{q[1].tolist()}. {HINT.en}",
               zh=f"较小的那一行 [0.011, -0.02, 0.004] 用它自己的 scale 量化应得到 [70, -127, 25]，实际为 "
                  f"{q[1].tolist()}。{HINT.zh}"))


def test_dim_argument(impl):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 4, 5, generator=g) * torch.tensor([0.1, 1.0, 10.0, 100.0]).view(1, 4, 1)
    for dim in (0, 1, -1):
        check_against_closed_form(impl, x, dim, say(en=f"quantize_absmax(x (3, 4, 5), dim={dim})",
                                                    zh=f"quantize_absmax(x (3, 4, 5), dim={dim}) "))


def test_dequantize_multiplies_by_the_scale(impl):
    q = torch.tensor([[127, -64, 0, 3], [-127, 10, 1, -1]], dtype=torch.int8)
    scale = torch.tensor([[0.5], [0.02]])
    expect_close(impl.dequantize(q, scale), q.float() * scale, "dequantize(q (2, 4) int8, scale (2, 1))",
                 atol=1e-7, rtol=1e-6, hint=say(en="dequantize returns q.float() * scale (broadcast over the kept dim).",
                                                zh="dequantize 返回 q.float() * scale（在保留的那一维上广播）。"),
                 likely=((q.float() / scale, say(en="q / scale; dequantize multiplies: q.float() * scale.",
                                                 zh="算成了 q / scale；去量化是乘法：q.float() * scale。")),))


def test_deterministic(impl):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(4, 7, generator=g)
    expect_deterministic(impl.quantize_absmax, x, what="quantize_absmax(x (4, 7))")


@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.floats(-4, 4), st.integers(0, 2**16))
def test_property_any_shape_and_magnitude(impl, shape, log_mag, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g) * 10 ** log_mag
    check_against_closed_form(impl, x, None, say(en=f"quantize_absmax(x of shape {tuple(shape)}, magnitude 1e{log_mag:.1f})",
                                                 zh=f"quantize_absmax(形状为 {tuple(shape)}、量级为 1e{log_mag:.1f} 的 x) "))
    q, scale = impl.quantize_absmax(x)
    err = (impl.dequantize(q, scale).double() - x.double()).abs()
    expect(bool((err <= scale.double() * (0.5 + 1e-4)).all()),
           say(en=f"|dequantize − x| exceeds scale / 2 for x of shape {tuple(shape)}. {HINT.en}",
               zh=f"形状为 {tuple(shape)} 的 x 上 |dequantize − x| 超过了 scale / 2。{HINT.zh}"))
