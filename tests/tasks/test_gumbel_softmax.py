"""gumbel-softmax: y = softmax((logits + g)/τ) over the last dim; hard = one-hot value with the soft gradient.

Oracles: the float64 closed form with the noise passed in, autograd of that closed form for the straight-through
gradient, and Monte Carlo frequencies of the argmax (the Gumbel-max trick: argmax(logits + g) ~ softmax(logits)).
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged, say

HINT = say(en="y = softmax((logits + gumbels) / tau, dim=-1): add the noise to the logits, THEN divide the sum by the "
              "temperature (divide, not multiply), and normalize over the last dim.",
           zh="y = softmax((logits + gumbels) / tau, dim=-1)：先把噪声加到 logits 上，【再】把和除以温度"
              "（是除，不是乘），并在最后一维上归一化。")
NOISE_HINT = say(en="Draw standard Gumbel noise g = −log(−log U) with U ~ Uniform(0, 1) (torch.rand_like), fresh on "
                    "every call. −log U alone is exponential noise, log(−log U) has the wrong sign and Gaussian noise is "
                    "another distribution: with any of them argmax(logits + g) no longer follows softmax(logits).",
                 zh="要采样标准 Gumbel 噪声 g = −log(−log U)，U ~ Uniform(0, 1)（torch.rand_like），每次调用都重新采样。"
                    "只有 −log U 是指数分布噪声，log(−log U) 符号反了，高斯噪声是另一种分布：用它们中的任何一个，"
                    "argmax(logits + g) 都不再服从 softmax(logits)。")
ST_HINT = say(en="Straight-through: compute the soft y, take its argmax as a one-hot y_hard (torch.zeros_like(y).scatter"
                 "(-1, index, 1.0) or F.one_hot), and return y_hard − y.detach() + y — the value of y_hard, the gradient "
                 "of y.",
              zh="直通估计（straight-through）：先算软的 y，取其 argmax 得到独热的 y_hard（torch.zeros_like(y).scatter"
                 "(-1, index, 1.0) 或 F.one_hot），返回 y_hard − y.detach() + y——取值是 y_hard，梯度是 y 的梯度。")


def likely_temperature_mistakes(logits, gumbels, tau):
    """What the usual temperature mistakes give, each with its cause."""
    l, g, t = logits.double(), gumbels.double(), float(tau)
    return ((torch.softmax((l + g) * t, dim=-1).float(),
             say(en="multiplying by the temperature, softmax((logits + g) · τ); divide by τ, so that a small τ sharpens.",
                 zh="乘了温度，softmax((logits + g) · τ)；应除以 τ，这样小的 τ 才会让分布变尖锐。")),
            (torch.softmax(l / t + g, dim=-1).float(),
             say(en="only the logits divided by τ, softmax(logits / τ + g); the temperature divides logits AND noise: "
                    "softmax((logits + g) / τ).",
                 zh="只把 logits 除以了 τ，softmax(logits / τ + g)；温度要同时除 logits 和噪声："
                    "softmax((logits + g) / τ)。")))


def noise_mistakes():
    """(sampler of wrong noise from U, cause) for the usual mistakes in drawing the noise."""
    return ((lambda u: -torch.log(u),
             say(en="exponential noise g = −log U (one log short of a Gumbel variable); draw g = −log(−log U).",
                 zh="用了指数分布噪声 g = −log U（比 Gumbel 变量少了一层 log）；应采样 g = −log(−log U)。")),
            (lambda u: torch.log(-torch.log(u)),
             say(en="g = log(−log U), the negative of a Gumbel variable (a sign slip); draw g = −log(−log U).",
                 zh="用了 g = log(−log U)，即 Gumbel 变量的相反数（符号错了）；应采样 g = −log(−log U)。")),
            (lambda u: torch.randn(u.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64),
             say(en="Gaussian noise; draw standard Gumbel noise g = −log(−log U).",
                 zh="用了高斯噪声；应采样标准 Gumbel 噪声 g = −log(−log U)。")))


def noise_cause(freq, p, n):
    """The cause whose wrong noise gives argmax frequencies like `freq` (within 5 standard errors), else NOISE_HINT."""
    g = torch.Generator().manual_seed(99)
    m = 200000
    u = torch.rand(m, 4, generator=g, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    for draw, cause in noise_mistakes():
        f = torch.bincount((p.double().log() + draw(u)).argmax(-1), minlength=4).double() / m
        se = (f * (1 - f) / n + 1e-12).sqrt()
        if float(((freq.double() - f).abs() / se).max()) < 5:
            return say(en="Your frequencies are what a known mistake gives: " + cause.en,
                       zh="你的频率与一个常见错误给出的一致：" + cause.zh)
    return NOISE_HINT


def oracle(logits, gumbels, tau):
    return torch.softmax((logits.double() + gumbels.double()) / float(tau), dim=-1)


def rtol_for(logits, gumbels, tau):
    """float32 rounds an input of size M by eps·M/2: a relative error ~eps·M in the probabilities."""
    return 1e-5 + 2 * torch.finfo(torch.float32).eps * float(((logits.abs() + gumbels.abs()) / float(tau)).max())


def gumbel_noise(shape, g):
    u = torch.rand(shape, generator=g, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    return (-torch.log(-torch.log(u))).float()


def call(impl, logits, tau=None, hard=None, gumbels=None):
    kwargs = {}
    if tau is not None:
        kwargs["tau"] = tau
    if hard is not None:
        kwargs["hard"] = hard
    if gumbels is not None:
        kwargs["gumbels"] = gumbels
    shown = ", ".join(f"{k}={v if k != 'gumbels' else 'g'}" for k, v in kwargs.items())
    what = f"gumbel_softmax(logits of shape {tuple(logits.shape)}{', ' + shown if shown else ''})"
    out = impl.gumbel_softmax(logits, **kwargs)
    expect_tensor(out, what, shape=tuple(logits.shape), dtype=logits.dtype)
    return out, what


def test_closed_form_with_the_noise_passed_in(impl):
    g = torch.Generator().manual_seed(0)
    logits = 2 * torch.randn(4, 6, generator=g)
    gumbels = gumbel_noise((4, 6), g)
    before = (logits.clone(), gumbels.clone())
    for tau in (1.0, 0.5, 2.0):
        out, what = call(impl, logits, tau=tau, gumbels=gumbels)
        expect_close(out, oracle(logits, gumbels, tau).float(), what, atol=1e-6,
                     rtol=rtol_for(logits, gumbels, tau), hint=HINT,
                     likely=likely_temperature_mistakes(logits, gumbels, tau))
    expect_unchanged(before[0], logits, "logits")
    expect_unchanged(before[1], gumbels, "gumbels")


def test_temperature_divides_logits_plus_noise(impl):
    # τ = 0.25 and τ = 4 are far from 1: multiplying by τ, or dividing only the logits, gives other numbers.
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 5, generator=g)
    gumbels = gumbel_noise((3, 5), g)
    for tau in (0.25, 4.0):
        out, what = call(impl, logits, tau=tau, gumbels=gumbels)
        expect_close(out, oracle(logits, gumbels, tau).float(), what, atol=1e-6,
                     rtol=rtol_for(logits, gumbels, tau),
                     hint=say(en=f"With τ = {tau}: softmax((logits + g) / τ) — the temperature divides the logits AND "
                                 "the noise; small τ sharpens towards one-hot, large τ flattens towards uniform.",
                              zh=f"τ = {tau} 时：softmax((logits + g) / τ)——温度同时除 logits 和噪声；"
                                 "小的 τ 让结果趋向独热，大的 τ 让结果趋向均匀。"),
                     likely=likely_temperature_mistakes(logits, gumbels, tau))
    out, what = call(impl, logits, tau=torch.tensor(0.5), gumbels=gumbels)  # τ may be a 0-dim tensor
    expect_close(out, oracle(logits, gumbels, 0.5).float(),
                 say(en=f"{what} with tau a 0-dim tensor", zh=f"tau 为 0 维张量时的 {what}"), atol=1e-6,
                 rtol=rtol_for(logits, gumbels, 0.5), hint=HINT, likely=likely_temperature_mistakes(logits, gumbels, 0.5))


def test_defaults_soft_with_tau_one_over_the_last_dim(impl):
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 3, 4, generator=g)
    gumbels = gumbel_noise((2, 3, 4), g)
    out = expect_deterministic(impl.gumbel_softmax, logits, gumbels=gumbels,
                               what="gumbel_softmax(logits, gumbels=g)")
    expect_tensor(out, "gumbel_softmax(logits (2, 3, 4), gumbels=g)", shape=(2, 3, 4), dtype=torch.float32)
    expect_close(out, oracle(logits, gumbels, 1.0).float(), "gumbel_softmax(logits (2, 3, 4), gumbels=g)",
                 atol=1e-6, rtol=rtol_for(logits, gumbels, 1.0),
                 hint=say(en="Defaults: tau = 1, hard = False; the softmax runs over the LAST dim of a (2, 3, 4) input. "
                             + HINT.en,
                          zh="默认值：tau = 1，hard = False；对 (2, 3, 4) 的输入，softmax 在【最后】一维上做。" + HINT.zh))


def test_hard_value_is_the_one_hot_of_the_argmax_of_y(impl):
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(64, 5, generator=g)
    gumbels = gumbel_noise((64, 5), g)
    # with this noise the argmax of logits + g differs from the argmax of the logits in many rows
    assert ((logits + gumbels).argmax(-1) != logits.argmax(-1)).sum() >= 10
    out, what = call(impl, logits, tau=0.7, hard=True, gumbels=gumbels)
    want = torch.nn.functional.one_hot((logits.double() + gumbels.double()).argmax(-1), 5).float()
    expect_close(out, want, what, atol=1e-6, rtol=0.0,
                 hint=say(en="hard=True returns (in value) the one-hot of argmax y = argmax(logits + g) — the noisy "
                             "sample, not argmax(logits) — with exactly one 1 per row. " + ST_HINT.en,
                          zh="hard=True 返回（取值上）argmax y = argmax(logits + g) 的独热向量——是带噪声的样本，"
                             "不是 argmax(logits)——每行恰好一个 1。" + ST_HINT.zh),
                 likely=((torch.nn.functional.one_hot(logits.argmax(-1), 5).float(),
                          say(en="the one-hot of argmax(logits), ignoring the noise: that is always the mode, not a "
                                 "sample; take the argmax of y = softmax((logits + g) / τ).",
                              zh="取了 argmax(logits) 的独热向量，忽略了噪声：那永远是众数，而不是一个样本；"
                                 "应对 y = softmax((logits + g) / τ) 取 argmax。")),))


def test_hard_gradient_is_the_soft_gradient(impl):
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(6, 4, generator=g)
    gumbels = gumbel_noise((6, 4), g)
    w = torch.randn(6, 4, generator=g)
    tau = 0.8
    ref = logits.double().requires_grad_()
    (oracle(ref, gumbels, tau) * w.double()).sum().backward()
    for hard in (False, True):
        x = logits.clone().requires_grad_()
        out, what = call(impl, x, tau=tau, hard=hard, gumbels=gumbels)
        fix = ST_HINT if hard else say(en="Keep the computation in torch.", zh="整个计算都要用 torch 完成。")
        expect(out.requires_grad,
               say(en=f"{what} is not differentiable with respect to the logits (no grad_fn). " + fix.en,
                   zh=f"{what} 对 logits 不可导（没有 grad_fn）。" + fix.zh))
        (out * w).sum().backward()
        expect_close(x.grad, ref.grad.float(), say(en=f"the gradient of ({what} · w).sum() with respect to the logits",
                                                   zh=f"({what} · w).sum() 对 logits 的梯度"),
                     atol=1e-5, rtol=1e-4,
                     hint=say(en=ST_HINT.en + " A bare one-hot has no gradient at all.",
                              zh=ST_HINT.zh + "单纯的独热向量根本没有梯度。") if hard else
                     say(en="The gradient flows through softmax((logits + g)/τ); do not detach anything.",
                         zh="梯度要流经 softmax((logits + g)/τ)；不要 detach 任何东西。"))


def test_argmax_of_own_draws_follows_softmax_of_logits(impl):
    # Gumbel-max: P(argmax_k (ℓ_k + g_k) = i) = softmax(ℓ)_i, for the soft and the hard sample and any τ.
    p = torch.tensor([0.5, 0.3, 0.15, 0.05])
    n = 20000
    logits = p.log().expand(n, 4).clone()
    se = (p * (1 - p) / n).sqrt()
    torch.manual_seed(1234)
    for tau, hard in ((0.5, False), (2.0, True)):
        out, what = call(impl, logits, tau=tau, hard=hard)
        expect(bool(torch.isfinite(out).all()),
               say(en=f"{what} returned NaN or inf for some rows: clamp U away from 0 and 1 before −log(−log U), or "
                      "draw g = −log(Exponential(1)).",
                   zh=f"{what} 在某些行返回了 NaN 或 inf：计算 −log(−log U) 之前要把 U 限制在远离 0 和 1 的范围内，"
                      "或者用 g = −log(Exponential(1)) 采样。"))
        freq = torch.bincount(out.argmax(-1), minlength=4).float() / n
        z = ((freq - p).abs() / se).max().item()
        shown, want = [round(v, 4) for v in freq.tolist()], [round(v, 4) for v in p.tolist()]
        cause = noise_cause(freq, p, n) if z >= 5 else NOISE_HINT
        expect(z < 5,
               say(en=f"{what} on {n} rows of logits = log {want}: the argmax frequencies are {shown}, expected "
                      f"{want} (off by {z:.1f} standard errors). " + cause.en,
                   zh=f"{what} 在 {n} 行 logits = log {want} 上：argmax 的频率是 {shown}，应为 {want}"
                      f"（偏离了 {z:.1f} 个标准误）。" + cause.zh))
    a, _ = call(impl, logits[:8], tau=1.0)
    b, _ = call(impl, logits[:8], tau=1.0)
    expect(not torch.equal(a, b),
           say(en="two calls of gumbel_softmax(logits) without `gumbels` returned the same sample; draw fresh noise on "
                  "every call (no fixed seed inside the function).",
               zh="不传 `gumbels` 时两次调用 gumbel_softmax(logits) 返回了同一个样本；每次调用都要重新采样噪声"
                  "（函数内部不要固定随机种子）。"))


@given(st.lists(st.integers(1, 4), min_size=0, max_size=2), st.integers(2, 6), st.sampled_from([0.3, 1.0, 3.0]),
       st.integers(0, 2**16))
def test_property_any_shape_and_temperature(impl, batch, K, tau, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(*batch, K, generator=g)
    gumbels = gumbel_noise((*batch, K), g)
    out, what = call(impl, logits, tau=tau, gumbels=gumbels)
    expect_close(out, oracle(logits, gumbels, tau).float(), what, atol=1e-6,
                 rtol=rtol_for(logits, gumbels, tau), hint=HINT, likely=likely_temperature_mistakes(logits, gumbels, tau))
