"""r1-penalty: (γ/2) · mean_i ‖∇_x D(x_i)‖² at the real samples, differentiable w.r.t. D's parameters."""
import torch

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor, say

from _critics import LinearCritic, QuadraticCritic

HINT = say(en="x = real.detach().requires_grad_(True); grad = torch.autograd.grad(D(x).sum(), x, create_graph=True)[0]; "
              "then (gamma / 2) · grad.flatten(1).pow(2).sum(1).mean(): the SQUARED norm of each example's gradient "
              "(summed over its features), averaged over the batch, times γ/2 — no '− 1' (that is WGAN-GP).",
           zh="x = real.detach().requires_grad_(True)；grad = torch.autograd.grad(D(x).sum(), x, create_graph=True)[0]；"
              "然后 (gamma / 2) · grad.flatten(1).pow(2).sum(1).mean()：每个样本梯度的范数平方（在它的所有特征上求和），"
              "在 batch 上求平均，再乘以 γ/2——没有「− 1」（那是 WGAN-GP）。")


def likely_r1_mistakes(grad, gamma):
    """What the usual mistakes give for per-example input gradients `grad` (B, ...), each with its cause."""
    G = grad.double().flatten(1)
    norm = G.norm(dim=1)
    return (((gamma * G.pow(2).sum(1).mean()).float(),
             say(en="γ instead of γ/2 in front; the R1 penalty is (γ/2)·mean ‖∇D‖².",
                 zh="前面乘的是 γ 而不是 γ/2；R1 惩罚是 (γ/2)·mean ‖∇D‖²。")),
            ((0.5 * gamma * G.pow(2).mean()).float(),
             say(en="a mean of the squared gradient over ALL elements; sum the squares over each example's features "
                    "(grad.flatten(1).pow(2).sum(1)), then average over the batch.",
                 zh="对梯度平方在所有元素上求了平均；应先在每个样本的特征上对平方求和（grad.flatten(1).pow(2).sum(1)），"
                    "再在 batch 上求平均。")),
            ((0.5 * gamma * norm.mean()).float(),
             say(en="the gradient norm ‖∇D‖ instead of its square; use the SQUARED norm.",
                 zh="用的是梯度范数 ‖∇D‖ 而不是它的平方；应使用范数的平方。")),
            ((0.5 * gamma * (norm - 1).pow(2).mean()).float(),
             say(en="WGAN-GP's (‖∇D‖ − 1)²; R1 is zero-centred: (γ/2)·‖∇D‖² with no − 1.",
                 zh="用了 WGAN-GP 的 (‖∇D‖ − 1)²；R1 以 0 为中心：(γ/2)·‖∇D‖²，没有 − 1。")))


def quadratic_oracle(c, real, gamma):
    """The penalty for QuadraticCritic(c) in float64, differentiable w.r.t. c: (γ/2) mean_i Σ (c x_i)²."""
    return 0.5 * gamma * (c * real.double()).flatten(1).pow(2).sum(1).mean()


def test_linear_discriminator_gives_half_gamma_times_the_squared_weight_norm(impl):
    g = torch.Generator().manual_seed(0)
    real = torch.randn(4, 2, 3, generator=g)
    w = torch.randn(2, 3, generator=g)
    w = 1.5 * w / w.norm()  # ‖w‖² = 2.25
    for gamma in (10.0, 0.7):
        got = impl.r1_penalty(LinearCritic(w), real, gamma=gamma)
        lin_grad = w.expand(4, 2, 3)
        expect_tensor(got, f"r1_penalty(linear D, real (4, 2, 3), gamma={gamma})", shape=(), dtype=torch.float32)
        expect_scalar(got, 0.5 * gamma * 2.25,
                      say(en=f"r1_penalty with a linear D (‖∇D‖ = 1.5 everywhere), gamma={gamma}",
                          zh=f"线性 D（处处 ‖∇D‖ = 1.5）、gamma={gamma} 时的 r1_penalty"),
                      atol=1e-5, rtol=1e-5,
                      hint=say(en="For D(x) = <w, x> + b the input gradient is w, so the penalty is (γ/2)·‖w‖². A factor "
                                  "of 2 off means γ instead of γ/2; 1.5 instead of 2.25 means the norm was not squared; "
                                  "0.25 means (‖∇‖ − 1)² (WGAN-GP's penalty, not R1). ",
                               zh="对 D(x) = <w, x> + b，输入梯度就是 w，所以惩罚是 (γ/2)·‖w‖²。差 2 倍说明用了 γ 而不是 γ/2；"
                                  "得到 1.5 而不是 2.25 说明范数没有平方；0.25 说明用了 (‖∇‖ − 1)²（那是 WGAN-GP 的惩罚，"
                                  "不是 R1）。") + HINT,
                      likely=likely_r1_mistakes(lin_grad, gamma))
    got = impl.r1_penalty(LinearCritic(w), real)
    expect_scalar(got, 5.0 * 2.25, say(en="r1_penalty without `gamma` (default 10)", zh="不传 `gamma`（默认 10）时的 r1_penalty"),
                  atol=1e-5, rtol=1e-5,
                  hint=say(en="The default is gamma=10.0. ", zh="默认值是 gamma=10.0。") + HINT,
                  likely=likely_r1_mistakes(w.expand(4, 2, 3), 10.0))


def test_quadratic_discriminator_gradient_is_taken_at_the_real_samples(impl):
    g = torch.Generator().manual_seed(1)
    real = torch.randn(5, 4, generator=g)
    c = torch.rand(4, generator=g) + 0.5
    D = QuadraticCritic(c)
    got = impl.r1_penalty(D, real, gamma=3.0)
    expect(len(D.inputs) > 0, say(en="r1_penalty never called the discriminator; evaluate D at the real samples.",
                                  zh="r1_penalty 从未调用判别器；要在真实样本处计算 D。"))
    expect_close(D.inputs[-1], real, say(en="the discriminator's input inside r1_penalty", zh="r1_penalty 内部判别器的输入"),
                 atol=0, rtol=0,
                 hint=say(en="R1 is taken at the real samples themselves — no interpolation with fakes, no noise.",
                          zh="R1 就在真实样本本身处计算——不与假样本插值，也不加噪声。"))
    expect_scalar(got, quadratic_oracle(c.double(), real, 3.0).float(),
                  say(en="r1_penalty with D(x) = ½Σc·x² (input gradient c ⊙ x), gamma=3",
                      zh="D(x) = ½Σc·x²（输入梯度 c ⊙ x）、gamma=3 时的 r1_penalty"), atol=1e-5, rtol=1e-5,
                  hint=say(en="Sum the squared gradient over each example's features, then average over the batch: "
                              "not a mean over all elements, not one norm of the whole batch. ",
                           zh="在每个样本的特征上对梯度平方求和，再在 batch 上求平均：不是对所有元素求平均，"
                              "也不是整个 batch 只算一个范数。") + HINT,
                  likely=likely_r1_mistakes(c * real, 3.0))


def test_norm_is_summed_over_all_non_batch_dims(impl):
    # Images (B, C, H, W): the per-example squared norm sums over C·H·W entries.
    g = torch.Generator().manual_seed(2)
    real = torch.randn(3, 2, 4, 4, generator=g)
    c = torch.rand(2, 4, 4, generator=g) + 0.3
    got = impl.r1_penalty(QuadraticCritic(c), real, gamma=1.0)
    expect_scalar(got, quadratic_oracle(c.double(), real, 1.0).float(),
                  say(en="r1_penalty on images (3, 2, 4, 4) with D(x) = ½Σc·x²",
                      zh="图像 (3, 2, 4, 4) 上、D(x) = ½Σc·x² 时的 r1_penalty"), atol=1e-5, rtol=1e-5,
                  hint=say(en="Flatten each example's gradient (grad.flatten(1)) and sum its squares over all 32 entries; "
                              "a mean over them is 32 times too small. ",
                           zh="把每个样本的梯度展平（grad.flatten(1)），在全部 32 个元素上对平方求和；求平均会小 32 倍。") + HINT,
                  likely=likely_r1_mistakes(c * real, 1.0))


def test_differentiable_with_respect_to_the_discriminator_parameters(impl):
    g = torch.Generator().manual_seed(3)
    real = torch.randn(4, 6, generator=g)
    w = torch.randn(6, generator=g)
    D = LinearCritic(w)
    penalty = impl.r1_penalty(D, real, gamma=10.0)
    expect(isinstance(penalty, torch.Tensor) and penalty.requires_grad,
           say(en="the penalty must be differentiable w.r.t. D's parameters so that D can be trained on it — compute "
                  "the input gradient with torch.autograd.grad(..., create_graph=True).",
               zh="惩罚必须对 D 的参数可微，D 才能用它来训练——用 torch.autograd.grad(..., create_graph=True) "
                  "计算输入梯度。"))
    penalty.backward()
    expect(D.w.grad is not None, say(en="after penalty.backward() the discriminator's weight has no gradient — was the "
                                        "graph kept (create_graph=True)?",
                                     zh="penalty.backward() 之后判别器的权重没有梯度——计算输入梯度时保留了计算图吗"
                                        "（create_graph=True）？"))
    expect_close(D.w.grad, (10.0 * w.double()).float(), say(en="∂penalty/∂w for a linear D (closed form γ·w)",
                                                            zh="线性 D 的 ∂penalty/∂w（闭式解 γ·w）"), atol=1e-5,
                 rtol=1e-5, hint=HINT,
                 likely=(((20.0 * w.double()).float(),
                          say(en="γ instead of γ/2 in front; the R1 penalty is (γ/2)·mean ‖∇D‖².",
                              zh="前面乘的是 γ 而不是 γ/2；R1 惩罚是 (γ/2)·mean ‖∇D‖²。")),))

    c = torch.rand(6, generator=g) + 0.5
    quad = QuadraticCritic(c)
    impl.r1_penalty(quad, real, gamma=2.0).backward()
    c64 = c.double().requires_grad_(True)
    quadratic_oracle(c64, real, 2.0).backward()
    expect(quad.c.grad is not None and bool(quad.c.grad.abs().sum() > 0),
           say(en="∂penalty/∂c is missing or zero for the quadratic discriminator — was the graph kept "
                  "(create_graph=True)?",
               zh="二次判别器的 ∂penalty/∂c 缺失或为 0——保留了计算图吗（create_graph=True）？"))
    expect_close(quad.c.grad, c64.grad.float(), say(en="∂penalty/∂c for D(x) = ½Σc·x²", zh="D(x) = ½Σc·x² 的 ∂penalty/∂c"),
                 atol=1e-5, rtol=1e-5, hint=HINT)


def test_deterministic_and_inputs_unchanged(impl):
    real = torch.randn(3, 4, generator=torch.Generator().manual_seed(4))
    r0 = real.clone()
    expect_deterministic(impl.r1_penalty, LinearCritic(torch.ones(4)), real, what="r1_penalty(D, real)")
    impl.r1_penalty(QuadraticCritic(torch.ones(4)), real)
    expect(torch.equal(real, r0), say(en="r1_penalty modified `real` in place; work on a copy.",
                                      zh="r1_penalty 原地修改了 `real`；要在副本上操作。"))
    expect(not real.requires_grad,
           say(en="after r1_penalty(D, real) the caller's `real` has requires_grad=True: the function switched it on "
                  "in place (real.requires_grad_()), so every later D(real) builds a graph back to the data and D's "
                  "loss.backward() fills real.grad. Work on a copy: x = real.detach().requires_grad_(True).",
               zh="调用 r1_penalty(D, real) 之后，调用方的 `real` 变成了 requires_grad=True：函数原地打开了它"
                  "（real.requires_grad_()），于是之后每次 D(real) 都会把计算图连回数据，D 的 loss.backward() "
                  "会填充 real.grad。要在副本上操作：x = real.detach().requires_grad_(True)。"))
