"""rope-scaling: RoPE inverse frequencies θ_i = base^(−2i/dim), with position interpolation ("linear") or NTK-aware scaling."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import CheckFailed, expect, expect_close, expect_deterministic, expect_tensor, say, usual_cause

RTOL = 1e-5  # any float32 evaluation of base ** (-2i/dim) is far closer than this
PLAIN = say(en="θ_i = base^(−2i/dim) for i = 0 .. dim/2 − 1, i.e. base ** (-torch.arange(0, dim, 2) / dim).",
            zh="θ_i = base^(−2i/dim)，i = 0 .. dim/2 − 1，即 base ** (-torch.arange(0, dim, 2) / dim)。")


def closed(dim, base=10000.0, method="none", factor=1.0):
    """The closed forms in float64."""
    if method == "ntk":
        base = base * factor ** (dim / (dim - 2))
    theta = torch.tensor([base ** (-2.0 * i / dim) for i in range(dim // 2)], dtype=torch.float64)
    return (theta / factor if method == "linear" else theta).float()


def likely_rope_mistakes(dim, base=10000.0, method="none", factor=1.0):
    """What the usual mistakes give for these arguments, each with its cause (expect_close(likely=...))."""
    def freqs(b, step=2.0):
        return torch.tensor([b ** (-step * i / dim) for i in range(dim // 2)], dtype=torch.float64)
    b = base * factor ** (dim / (dim - 2)) if method == "ntk" else base
    out = [(freqs(b, 1.0) / (factor if method == "linear" else 1.0),
            say(en="the exponent is i/dim; i counts PAIRS of dimensions, so it is 2i/dim: "
                   "base ** (-torch.arange(0, dim, 2) / dim).",
                zh="指数用了 i/dim；i 数的是维度对，所以应是 2i/dim：base ** (-torch.arange(0, dim, 2) / dim)。"))]
    if method == "linear":
        out.append((freqs(base) * factor,
                    say(en="the frequencies are MULTIPLIED by factor; position interpolation divides them: θ_i / factor.",
                        zh="频率乘以了 factor；位置插值应当除以它：θ_i / factor。")))
    if method == "ntk":
        out += [(freqs(base * factor),
                 say(en="base · factor without the exponent; NTK-aware scaling uses base' = base · factor^(dim / (dim − 2)).",
                     zh="用了 base · factor，少了指数；NTK-aware 缩放用的是 base' = base · factor^(dim / (dim − 2))。")),
                (freqs(base * factor ** ((dim - 2) / dim)),
                 say(en="the exponent on factor is upside down, (dim − 2)/dim; it is dim/(dim − 2).",
                     zh="factor 上的指数倒过来了，用了 (dim − 2)/dim；应是 dim/(dim − 2)。"))]
    return tuple((v.float(), c) for v, c in out)


def get(impl, dim, what=None, **kwargs):
    got = impl.rope_inv_freq(dim, **kwargs)
    what = what or f"rope_inv_freq({dim}{''.join(f', {k}={v!r}' for k, v in kwargs.items())})"
    return expect_tensor(got, what, shape=(dim // 2,), dtype=torch.float32), what


def test_plain_frequencies(impl):
    for dim, base in ((4, 10000.0), (8, 10000.0), (64, 10000.0), (128, 500000.0)):
        got, what = get(impl, dim, base=base)
        expect_close(got, closed(dim, base), what, atol=0, rtol=RTOL,
                     hint=PLAIN + say(en=" The exponent steps by 2/dim (i counts pairs), and the base argument is used.",
                                      zh="指数以 2/dim 为步长（i 数的是维度对），并且要使用参数 base。"),
                     likely=likely_rope_mistakes(dim, base))


def test_default_method_is_none(impl):
    got, what = get(impl, 16, what=say(en="rope_inv_freq(16) with the defaults", zh="使用默认参数的 rope_inv_freq(16)"))
    expect_close(got, closed(16), what, atol=0, rtol=RTOL,
                 hint=say(en="Defaults: base=10000.0, method='none'. ", zh="默认值：base=10000.0，method='none'。") + PLAIN,
                 likely=likely_rope_mistakes(16))
    expect(abs(got[0].item() - 1.0) < 1e-6, say(en=f"θ_0 must be base^0 = 1 (the highest frequency); got {got[0].item()}.",
                                                zh=f"θ_0 必须是 base^0 = 1（最高频率）；实际是 {got[0].item()}。"))


def test_linear_divides_every_frequency(impl):
    for dim, factor in ((8, 4.0), (32, 2.0), (16, 1.5)):
        got, what = get(impl, dim, method="linear", factor=factor)
        expect_close(got, closed(dim, method="linear", factor=factor), what, atol=0, rtol=RTOL,
                     hint=say(en="Position interpolation divides EVERY frequency by factor (positions m → m / factor): "
                                 "θ_i / factor — dividing, not multiplying.",
                              zh="位置插值把每个频率都除以 factor（位置 m → m / factor）：θ_i / factor——是除，不是乘。"),
                     likely=likely_rope_mistakes(dim, method="linear", factor=factor))


def test_ntk_closed_form(impl):
    for dim, base, factor in ((8, 10000.0, 4.0), (64, 10000.0, 8.0), (128, 500000.0, 2.0), (6, 10000.0, 3.0)):
        got, what = get(impl, dim, base=base, method="ntk", factor=factor)
        expect_close(got, closed(dim, base, "ntk", factor), what, atol=0, rtol=RTOL,
                     hint=say(en="NTK-aware scaling changes only the base: base' = base · factor^(dim / (dim − 2)), "
                                 "then θ_i = base'^(−2i/dim).",
                              zh="NTK-aware 缩放只改变 base：base' = base · factor^(dim / (dim − 2))，"
                                 "然后 θ_i = base'^(−2i/dim)。"),
                     likely=likely_rope_mistakes(dim, base, "ntk", factor))


def test_ntk_keeps_the_highest_and_divides_the_lowest_by_factor(impl):
    dim, factor = 16, 4.0
    ntk, what = get(impl, dim, method="ntk", factor=factor)
    plain, _ = get(impl, dim)
    expect(abs(ntk[0].item() - plain[0].item()) <= 1e-6,
           say(en=f"{what}[0] = {ntk[0].item():.6g} but the unscaled θ_0 is {plain[0].item():.6g}; NTK-aware scaling "
                  "leaves the highest frequency (i = 0) unchanged, because base'^0 = 1.",
               zh=f"{what}[0] = {ntk[0].item():.6g}，而未缩放的 θ_0 是 {plain[0].item():.6g}；NTK-aware 缩放不改变"
                  "最高频率（i = 0），因为 base'^0 = 1。"))
    ratio = (plain[-1].double() / ntk[-1].double()).item()
    cause = usual_cause(ntk, likely_rope_mistakes(dim, method="ntk", factor=factor), say(en="", zh=""), atol=0,
                        rtol=RTOL)
    expect(abs(ratio - factor) <= 1e-4 * factor,
           say(en=f"under NTK-aware scaling the lowest frequency θ_{dim // 2 - 1} must be divided by exactly factor = "
                  f"{factor:g}; it was divided by {ratio:.6g}. The exponent dim/(dim − 2) on factor is what makes "
                  f"(base · factor^(dim/(dim−2)))^(−(dim−2)/dim) = base^(−(dim−2)/dim) / factor. {cause.en}".rstrip(),
               zh=f"在 NTK-aware 缩放下，最低频率 θ_{dim // 2 - 1} 必须恰好除以 factor = {factor:g}；实际除以了 "
                  f"{ratio:.6g}。正是 factor 上的指数 dim/(dim − 2) 使得 "
                  f"(base · factor^(dim/(dim−2)))^(−(dim−2)/dim) = base^(−(dim−2)/dim) / factor。{cause.zh}"))
    middle = plain[1:-1].double() / ntk[1:-1].double()
    expect(bool(((middle > 1) & (middle < factor)).all()),
           say(en="under NTK-aware scaling the frequencies between the first and the last are divided by less than "
                  f"factor and more than 1; the divisors were {middle.tolist()}.",
               zh="在 NTK-aware 缩放下，首尾之间的频率被除的数应大于 1 且小于 factor；"
                  f"实际的除数是 {middle.tolist()}。"))


def test_factor_one_changes_nothing(impl):
    plain, _ = get(impl, 12)
    for method in ("none", "linear", "ntk"):
        got, what = get(impl, 12, method=method, factor=1.0)
        expect_close(got, plain, say(en=what + " vs rope_inv_freq(12)", zh=what + " 与 rope_inv_freq(12) 的对比"),
                     atol=0, rtol=RTOL,
                     hint=say(en="With factor = 1 every method must give the plain frequencies.",
                              zh="factor = 1 时每种方法都必须给出未缩放的频率。"))


def test_unknown_method_raises_value_error(impl):
    for method in ("yarn", "dynamic", "NTK-by-parts"):
        try:
            impl.rope_inv_freq(8, method=method, factor=2.0)
        except ValueError:
            continue
        except Exception as exc:  # noqa: BLE001 — any other error type breaks the contract
            raise CheckFailed(say(en=f"rope_inv_freq(8, method={method!r}) raised {type(exc).__name__}: {exc}; the "
                                     "task asks for a ValueError on an unknown method.",
                                  zh=f"rope_inv_freq(8, method={method!r}) 抛出了 {type(exc).__name__}: {exc}；"
                                     "题目要求对未知的 method 抛出 ValueError。").render()) from None
        expect(False, say(en=f"rope_inv_freq(8, method={method!r}) returned a result; an unknown method must raise "
                             "ValueError (silently falling back to 'none' hides typos).",
                          zh=f"rope_inv_freq(8, method={method!r}) 返回了结果；未知的 method 必须抛出 ValueError"
                             "（悄悄退回到 'none' 会掩盖拼写错误）。"))


def test_deterministic(impl):
    expect_deterministic(impl.rope_inv_freq, 16, 10000.0, "ntk", 4.0, what="rope_inv_freq(16, 10000.0, 'ntk', 4.0)")


@given(st.integers(2, 64), st.sampled_from(["none", "linear", "ntk"]), st.floats(1.0, 16.0),
       st.sampled_from([10000.0, 1e6, 500.0]))
def test_property_any_dim(impl, half, method, factor, base):
    dim = 2 * half
    got, what = get(impl, dim, base=base, method=method, factor=factor)
    expect_close(got, closed(dim, base, method, factor), what, atol=0, rtol=RTOL,
                 hint=PLAIN + say(en=" 'linear': θ_i / factor; 'ntk': base' = base · factor^(dim/(dim − 2)).",
                                  zh="'linear'：θ_i / factor；'ntk'：base' = base · factor^(dim/(dim − 2))。"),
                 likely=likely_rope_mistakes(dim, base, method, factor))
