"""vae-reparameterize: z = μ + exp(½·logvar)·ε, differentiable in μ and logvar."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="z = mu + exp(0.5 * logvar) * eps: exp(0.5·logvar) is the standard deviation σ; exp(logvar) is the "
              "variance σ².",
           zh="z = mu + exp(0.5 * logvar) * eps：exp(0.5·logvar) 是标准差 σ；exp(logvar) 是方差 σ²。")


def likely_rep_mistakes(mu, logvar, eps):
    """What the usual mistakes give for a given eps, each with its cause (expect_close(likely=...))."""
    m, lv, e = mu.detach().double(), logvar.detach().double(), eps.double()
    return (((m + lv.exp() * e).to(mu.dtype),
             say(en="the noise is scaled by exp(logvar) = σ², the variance; the standard deviation is σ = exp(0.5·logvar).",
                 zh="噪声按 exp(logvar) = σ²（方差）缩放了；标准差是 σ = exp(0.5·logvar)。")),
            ((m + lv * e).to(mu.dtype),
             say(en="the noise is multiplied by logvar itself, as if it were σ; use σ = exp(0.5·logvar).",
                 zh="噪声直接乘了 logvar，好像它就是 σ；应使用 σ = exp(0.5·logvar)。")))


def oracle(mu, logvar, eps):
    return (mu.double() + (0.5 * logvar.double()).exp() * eps.double()).to(mu.dtype)


def test_exact_for_a_given_eps_including_small_variances(impl):
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 5, generator=g)
    logvar = torch.tensor([-10.0, -6.0, -1.0, 0.0, 3.0]).expand(4, 5).clone()  # σ from 0.0067 to 4.5
    eps = torch.randn(4, 5, generator=g)
    z = impl.reparameterize(mu, logvar, eps)
    expect_tensor(z, "reparameterize(mu (4, 5), logvar, eps)", shape=(4, 5), dtype=torch.float32)
    expect_close(z, oracle(mu, logvar, eps), say(en="reparameterize(mu, logvar, eps) with logvar from -10 to 3",
                                                 zh="logvar 从 -10 到 3 时的 reparameterize(mu, logvar, eps)"),
                 atol=1e-6, rtol=1e-5,
                 hint=say(en="Use the eps you are given (draw noise only when eps is None). ",
                          zh="要使用传入的 eps（只有 eps 为 None 时才自己采样噪声）。") + HINT,
                 likely=likely_rep_mistakes(mu, logvar, eps))


def test_zero_noise_gives_the_mean_and_any_batch_shape(impl):
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(2, 3, 4, generator=g), torch.randn(2, 3, 4, generator=g)
    expect_close(impl.reparameterize(mu, logvar, torch.zeros(2, 3, 4)), mu, "reparameterize(mu, logvar, eps=0)",
                 atol=1e-7, hint=say(en="With ε = 0 the sample is exactly μ: use the eps you are given.",
                                     zh="ε = 0 时样本恰好是 μ：要使用传入的 eps。"))
    eps = torch.randn(2, 3, 4, generator=g)
    expect_close(impl.reparameterize(mu, logvar, eps), oracle(mu, logvar, eps),
                 say(en="reparameterize on inputs of shape (2, 3, 4)", zh="形状为 (2, 3, 4) 的输入上的 reparameterize"),
                 atol=1e-6, rtol=1e-5, hint=HINT, likely=likely_rep_mistakes(mu, logvar, eps))


def test_gradients_by_autograd_with_a_given_eps(impl):
    g = torch.Generator().manual_seed(2)
    mu = torch.randn(3, 4, generator=g, requires_grad=True)
    logvar = (2 * torch.randn(3, 4, generator=g)).requires_grad_()
    eps = torch.randn(3, 4, generator=g)
    w = torch.randn(3, 4, generator=g)  # a random upstream gradient
    z = impl.reparameterize(mu, logvar, eps)
    expect(isinstance(z, torch.Tensor) and z.requires_grad,
           say(en="reparameterize's result does not require grad: gradients cannot reach the encoder. Build z from mu "
                  "and logvar with differentiable ops (no .detach(), no .sample(), no torch.normal).",
               zh="reparameterize 的结果不需要梯度：梯度无法传到编码器。要用可微运算由 mu 和 logvar 构造 z"
                  "（不要 .detach()、.sample() 或 torch.normal）。"))
    (z * w).sum().backward()
    expect(mu.grad is not None and logvar.grad is not None,
           say(en="no gradient reached mu or logvar; build z = mu + exp(0.5·logvar)·eps from both.",
               zh="梯度没有传到 mu 或 logvar；要由两者构造 z = mu + exp(0.5·logvar)·eps。"))
    expect_close(mu.grad, w, say(en="∂z/∂μ (times a random upstream gradient)", zh="∂z/∂μ（乘以一个随机的上游梯度）"),
                 atol=1e-6, hint=say(en="∂z/∂μ = 1 elementwise: z = μ + σ·ε.", zh="逐元素 ∂z/∂μ = 1：z = μ + σ·ε。"))
    std = (0.5 * logvar.detach().double()).exp()
    expect_close(logvar.grad, (0.5 * std * eps * w).float(),
                 say(en="∂z/∂logvar (times a random upstream gradient)", zh="∂z/∂logvar（乘以一个随机的上游梯度）"),
                 atol=1e-5, rtol=1e-4,
                 hint=say(en="∂z/∂logvar = ½·σ·ε when σ = exp(½·logvar). ", zh="σ = exp(½·logvar) 时 ∂z/∂logvar = ½·σ·ε。")
                 + HINT,
                 likely=(((std ** 2 * eps * w).float(),
                          say(en="the noise is scaled by exp(logvar) = σ², the variance; the standard deviation is "
                                 "σ = exp(0.5·logvar).",
                              zh="噪声按 exp(logvar) = σ²（方差）缩放了；标准差是 σ = exp(0.5·logvar)。")),
                         ((eps * w).float(),
                          say(en="the noise is multiplied by logvar itself, as if it were σ; use σ = exp(0.5·logvar).",
                              zh="噪声直接乘了 logvar，好像它就是 σ；应使用 σ = exp(0.5·logvar)。"))))


def test_draws_its_own_noise_when_eps_is_none(impl):
    n = 20000
    mu = torch.tensor([0.5, -2.0, 3.0]).expand(n, 3).clone().requires_grad_()
    logvar = torch.tensor([-4.0, 0.0, 2.0]).expand(n, 3).clone().requires_grad_()
    z = impl.reparameterize(mu, logvar)
    expect_tensor(z, say(en="reparameterize(mu, logvar) with eps=None", zh="eps=None 时的 reparameterize(mu, logvar)"),
                  shape=(n, 3), dtype=torch.float32)
    std = torch.tensor([-4.0, 0.0, 2.0]).mul(0.5).exp()
    mean, var = z.detach().mean(0), z.detach().var(0)
    expect(bool(((mean - mu[0].detach()).abs() < 5 * std / n ** 0.5).all()),
           say(en=f"the sample means {mean.tolist()} of 20000 draws are not μ = [0.5, -2, 3] (within 5 standard "
                  "errors). Draw ε ~ N(0, I), e.g. torch.randn_like(mu).",
               zh=f"20000 次采样的样本均值 {mean.tolist()} 不等于 μ = [0.5, -2, 3]（在 5 个标准误之内）。"
                  "要采样 ε ~ N(0, I)，例如 torch.randn_like(mu)。"))
    ratio = (var / std ** 2).tolist()
    expect(bool(((var / std ** 2 - 1).abs() < 0.05).all()),
           say(en=f"the sample variances {var.tolist()} of 20000 draws are not e^logvar = {(std ** 2).tolist()} "
                  f"(within 5%; ratio {ratio}). ",
               zh=f"20000 次采样的样本方差 {var.tolist()} 不等于 e^logvar = {(std ** 2).tolist()}"
                  f"（5% 以内；比值 {ratio}）。") + HINT)
    expect(z.requires_grad, say(en="with eps=None the result does not require grad: use rsample-style μ + σ·ε, "
                                   "not a non-differentiable .sample() or torch.normal.",
                                zh="eps=None 时结果不需要梯度：要用 rsample 式的 μ + σ·ε，"
                                   "不要用不可微的 .sample() 或 torch.normal。"))
    z.sum().backward()
    expect_close(mu.grad, torch.ones(n, 3), say(en="∂z/∂μ with eps=None", zh="eps=None 时的 ∂z/∂μ"), atol=1e-6,
                 hint=say(en="∂z/∂μ = 1.", zh="∂z/∂μ = 1。"))
    expect_close(logvar.grad, 0.5 * (z.detach() - mu.detach()), say(en="∂z/∂logvar with eps=None", zh="eps=None 时的 ∂z/∂logvar"),
                 atol=1e-4, rtol=1e-4,
                 hint=say(en="∂z/∂logvar = ½·σ·ε = ½(z − μ); the noise must enter as z = μ + σ·ε.",
                          zh="∂z/∂logvar = ½·σ·ε = ½(z − μ)；噪声必须以 z = μ + σ·ε 的形式进入。"))


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.floats(-8, 4), st.integers(0, 2**16))
def test_property_exact_for_any_shape(impl, shape, logvar_shift, seed):
    g = torch.Generator().manual_seed(seed)
    mu, eps = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    logvar = torch.randn(shape, generator=g) + logvar_shift
    expect_close(impl.reparameterize(mu, logvar, eps), oracle(mu, logvar, eps),
                 say(en=f"reparameterize on shape {tuple(shape)}, logvar around {logvar_shift:.3g}",
                     zh=f"形状 {tuple(shape)}、logvar 约为 {logvar_shift:.3g} 时的 reparameterize"), atol=1e-6, rtol=1e-5,
                 hint=HINT, likely=likely_rep_mistakes(mu, logvar, eps))
