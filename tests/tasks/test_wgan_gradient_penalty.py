"""wgan-gradient-penalty: weight · mean((‖∇_x̂ critic(x̂)‖₂ − 1)²) at x̂ = α·real + (1 − α)·fake."""
import torch

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_tensor, say

from _critics import LinearCritic, QuadraticCritic

HINT = say(en="x̂ = α·real + (1 − α)·fake (one α per example); take ∇ of the critic's output w.r.t. x̂ "
              "(torch.autograd.grad with create_graph=True), flatten each example's gradient, take its L2 norm, "
              "then weight · mean((norm − 1)²).",
           zh="x̂ = α·real + (1 − α)·fake（每个样本一个 α）；对 x̂ 求评论器输出的梯度（torch.autograd.grad，"
              "create_graph=True），把每个样本的梯度展平并求 L2 范数，然后算 weight · mean((norm − 1)²)。")


def likely_gp_mistakes(grad_at_xhat, grad_at_fake, weight):
    """What the usual mistakes give from the per-example input gradients (B, ...), each with its cause."""
    G = grad_at_xhat.double().flatten(1)
    norm = G.norm(dim=1)
    out = [(weight * norm.pow(2).mean(),
            say(en="‖∇‖² is penalized instead of (‖∇‖ − 1)²; WGAN-GP pulls each gradient norm towards 1.",
                zh="惩罚的是 ‖∇‖² 而不是 (‖∇‖ − 1)²；WGAN-GP 把每个梯度范数拉向 1。")),
           (weight * (G.norm() - 1) ** 2,
            say(en="one L2 norm over the whole batch's gradient; take one norm per example: "
                   "grad.flatten(1).norm(dim=1).",
                zh="对整个 batch 的梯度只求了一个 L2 范数；应每个样本各求一个范数：grad.flatten(1).norm(dim=1)。"))]
    if grad_at_fake is not None:
        out.append((weight * (grad_at_fake.double().flatten(1).norm(dim=1) - 1).pow(2).mean(),
                    say(en="the gradient is taken at the fakes; take it at the interpolates x̂ = α·real + (1 − α)·fake.",
                        zh="梯度是在假样本处求的；应在插值点 x̂ = α·real + (1 − α)·fake 处求。")))
    return tuple((v.float(), c) for v, c in out)


def quadratic_oracle(c, real, fake, alpha, weight):
    """The penalty for QuadraticCritic(c) as a closed form in float64, differentiable w.r.t. c."""
    x_hat = alpha.double() * real.double() + (1 - alpha.double()) * fake.double()
    norms = (c * x_hat).flatten(1).norm(dim=1)  # ‖c ⊙ x̂_i‖
    return weight * (norms - 1).pow(2).mean()


def data(seed, shape):
    g = torch.Generator().manual_seed(seed)
    real = torch.randn(shape, generator=g)
    fake = real + 0.5 + torch.rand(shape, generator=g)  # real − fake is never close to 0
    alpha = torch.tensor([0.05, 0.9, 0.3, 0.6, 1.0, 0.0])[: shape[0]].reshape(-1, *([1] * (len(shape) - 1)))
    return g, real, fake, alpha


def test_linear_critic_gradient_is_its_weight(impl):
    g, real, fake, alpha = data(0, (4, 2, 3, 3))
    w = torch.randn(2, 3, 3, generator=g)
    w = 2.5 * w / w.norm()  # ‖w‖ = 2.5, so (‖w‖ − 1)² = 2.25
    for weight in (10.0, 3.5):
        got = impl.gradient_penalty(LinearCritic(w), real, fake, alpha=alpha, weight=weight)
        expect_tensor(got, "gradient_penalty(...)", shape=(), dtype=torch.float32)
        expect_scalar(got, weight * 2.25, say(en=f"gradient_penalty with a linear critic (‖∇f‖ = 2.5), weight={weight}",
                                              zh=f"线性评论器（‖∇f‖ = 2.5）、weight={weight} 时的 gradient_penalty"),
                      atol=1e-4, rtol=1e-5,
                      hint=say(en="For f(x) = <w, x> the gradient is w at every point, so the penalty is "
                                  "weight·(‖w‖ − 1)². Penalize (‖∇‖ − 1)², not ‖∇‖²; take the norm of each example's "
                                  "gradient, not of the whole batch's. ",
                               zh="对 f(x) = <w, x>，梯度处处是 w，所以惩罚是 weight·(‖w‖ − 1)²。要惩罚 (‖∇‖ − 1)²，"
                                  "不是 ‖∇‖²；范数要对每个样本的梯度分别求，而不是对整个 batch 求。") + HINT,
                      likely=likely_gp_mistakes(w.expand(4, 2, 3, 3), None, weight))
    got = impl.gradient_penalty(LinearCritic(w), real, fake, alpha=alpha)
    expect_scalar(got, 10.0 * 2.25, say(en="gradient_penalty without `weight` (default 10)",
                                        zh="不传 `weight`（默认 10）时的 gradient_penalty"), atol=1e-4, rtol=1e-5,
                  hint=say(en="The default is weight=10.0. ", zh="默认值是 weight=10.0。") + HINT,
                  likely=likely_gp_mistakes(w.expand(4, 2, 3, 3), None, 10.0))


def test_quadratic_critic_gradient_is_taken_at_the_interpolates(impl):
    g, real, fake, alpha = data(1, (6, 5))
    c = torch.rand(5, generator=g) + 0.5
    got = impl.gradient_penalty(QuadraticCritic(c), real, fake, alpha=alpha, weight=2.0)
    want = quadratic_oracle(c.double(), real, fake, alpha, 2.0)
    x_hat = alpha * real + (1 - alpha) * fake
    expect_scalar(got, want.float(), say(en="gradient_penalty with f(x) = ½Σc·x² (gradient c ⊙ x) and α given",
                                         zh="f(x) = ½Σc·x²（梯度 c ⊙ x）且给定 α 时的 gradient_penalty"),
                  atol=1e-4, rtol=1e-4,
                  hint=say(en="The gradient must be taken at x̂ = α·real + (1 − α)·fake — not at the fakes, not at the "
                              "reals, and with α multiplying `real`. ",
                           zh="梯度必须在 x̂ = α·real + (1 − α)·fake 处求——不是在假样本处，也不是在真实样本处，"
                              "并且 α 乘的是 `real`。") + HINT,
                  likely=likely_gp_mistakes(c * x_hat, c * fake, 2.0))


def test_one_uniform_alpha_per_example_when_not_given(impl):
    B = 256
    g, real, fake, _ = data(2, (B, 3, 2))
    critic = QuadraticCritic(torch.ones(3, 2))
    got = impl.gradient_penalty(critic, real, fake)
    expect(len(critic.inputs) > 0, say(en="gradient_penalty never called the critic; evaluate it at the interpolates x̂.",
                                       zh="gradient_penalty 从未调用评论器；要在插值点 x̂ 处计算它。"))
    x_hat = critic.inputs[-1]
    expect_tensor(x_hat, say(en="the critic's input x̂", zh="评论器的输入 x̂"), shape=(B, 3, 2), dtype=torch.float32)
    ratio = ((x_hat - fake) / (real - fake)).flatten(1)  # = α elementwise, since x̂ − fake = α (real − fake)
    spread = (ratio.max(1).values - ratio.min(1).values).max().item()
    expect(spread < 1e-3,
           say(en=f"within one example, x̂ must be α·real + (1 − α)·fake with ONE α shared by all its elements; found α "
                  f"varying by {spread:.3g} inside an example — draw alpha with shape (B, 1, ..., 1), not like `real`.",
               zh=f"在同一个样本内，x̂ 必须是 α·real + (1 − α)·fake，所有元素共用一个 α；但发现一个样本内 α 的变化达 "
                  f"{spread:.3g}——alpha 的形状应是 (B, 1, ..., 1)，不能和 `real` 一样。"))
    alpha = ratio.mean(1)
    lo, hi, mean = alpha.min().item(), alpha.max().item(), alpha.mean().item()
    expect(lo >= -1e-4 and hi <= 1 + 1e-4 and lo < 0.05 and hi > 0.95 and abs(mean - 0.5) < 0.06,
           say(en=f"the {B} per-example α values should look like draws from U(0, 1); got min {lo:.3f}, max {hi:.3f}, "
                  f"mean {mean:.3f}. Use torch.rand (uniform), not torch.randn or a constant.",
               zh=f"{B} 个逐样本的 α 应像是从 U(0, 1) 中抽取的；实际最小值 {lo:.3f}、最大值 {hi:.3f}、均值 {mean:.3f}。"
                  "要用 torch.rand（均匀分布），不要用 torch.randn 或常数。"))
    want = quadratic_oracle(torch.ones(3, 2, dtype=torch.float64), real, fake, alpha.reshape(B, 1, 1), 10.0)
    expect_scalar(got, want.float(), say(en="gradient_penalty(critic, real, fake) with its own α",
                                         zh="使用自己抽取的 α 时的 gradient_penalty(critic, real, fake)"),
                  atol=1e-4, rtol=1e-4, hint=HINT, likely=likely_gp_mistakes(x_hat.detach(), fake, 10.0))


def test_differentiable_with_respect_to_the_critic_parameters(impl):
    g, real, fake, alpha = data(3, (4, 6))
    w = torch.randn(6, generator=g)
    w = 1.7 * w / w.norm()
    critic = LinearCritic(w)
    penalty = impl.gradient_penalty(critic, real, fake, alpha=alpha, weight=10.0)
    expect(isinstance(penalty, torch.Tensor) and penalty.requires_grad,
           say(en="the penalty must be differentiable w.r.t. the critic's parameters so that the critic can be trained "
                  "on it — compute the input gradient with torch.autograd.grad(..., create_graph=True).",
               zh="惩罚必须对评论器的参数可微，评论器才能用它来训练——用 torch.autograd.grad(..., create_graph=True) "
                  "计算输入梯度。"))
    penalty.backward()
    expect(critic.w.grad is not None,
           say(en="after penalty.backward() the critic's weight has no gradient — was the graph kept (create_graph=True)?",
               zh="penalty.backward() 之后评论器的权重没有梯度——保留了计算图吗（create_graph=True）？"))
    w64 = w.double().requires_grad_(True)
    (10.0 * (w64.norm() - 1) ** 2).backward()  # closed form for a linear critic
    expect_close(critic.w.grad, w64.grad.float(), say(en="∂penalty/∂w for a linear critic f(x) = <w, x> + b",
                                                      zh="线性评论器 f(x) = <w, x> + b 的 ∂penalty/∂w"),
                 atol=1e-4, rtol=1e-4, hint=HINT,
                 likely=(((20.0 * w.double()).float(),
                          say(en="‖∇‖² is penalized instead of (‖∇‖ − 1)²; WGAN-GP pulls each gradient norm towards 1.",
                              zh="惩罚的是 ‖∇‖² 而不是 (‖∇‖ − 1)²；WGAN-GP 把每个梯度范数拉向 1。")),))

    c = torch.rand(6, generator=g) + 0.5
    quad = QuadraticCritic(c)
    impl.gradient_penalty(quad, real, fake, alpha=alpha, weight=3.0).backward()
    c64 = c.double().requires_grad_(True)
    quadratic_oracle(c64, real, fake, alpha, 3.0).backward()
    expect(quad.c.grad is not None and bool(quad.c.grad.abs().sum() > 0),
           say(en="∂penalty/∂c is missing or zero for the quadratic critic — was the graph kept (create_graph=True)?",
               zh="二次评论器的 ∂penalty/∂c 缺失或为 0——保留了计算图吗（create_graph=True）？"))
    expect_close(quad.c.grad, c64.grad.float(), say(en="∂penalty/∂c for f(x) = ½Σc·x²", zh="f(x) = ½Σc·x² 的 ∂penalty/∂c"),
                 atol=1e-4, rtol=1e-4, hint=HINT)


def test_inputs_are_not_modified(impl):
    g, real, fake, alpha = data(4, (3, 4))
    r0, f0 = real.clone(), fake.clone()
    impl.gradient_penalty(QuadraticCritic(torch.ones(4)), real, fake, alpha=alpha)
    expect(torch.equal(real, r0) and torch.equal(fake, f0),
           say(en="gradient_penalty modified `real` or `fake` in place; build x̂ as a new tensor.",
               zh="gradient_penalty 原地修改了 `real` 或 `fake`；要把 x̂ 构造成新张量。"))
