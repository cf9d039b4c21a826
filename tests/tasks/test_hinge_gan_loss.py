"""hinge-gan-loss: L_D = mean relu(1 − real) + mean relu(1 + fake); L_G = −mean fake."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor, say

HINT_D = say(en="L_D = relu(1 − real_logits).mean() + relu(1 + fake_logits).mean(): real logits should reach +1 and "
                "fake ones −1; each term is averaged over its own batch; no sigmoid, no log.",
             zh="L_D = relu(1 − real_logits).mean() + relu(1 + fake_logits).mean()：真样本的 logit 应达到 +1，"
                "假样本的应达到 −1；每一项在各自的 batch 上求均值；不用 sigmoid，也不取 log。")
HINT_G = say(en="L_G = −fake_logits.mean(): the generator raises D's raw score of its samples, with no margin and no "
                "relu.",
             zh="L_G = −fake_logits.mean()：生成器直接抬高判别器对其样本的原始打分，没有间隔（margin），也没有 relu。")


def likely_d_mistakes(real, fake):
    """What the usual mistakes give for L_D, each with its cause."""
    r, f = real.double().flatten(), fake.double().flatten()
    relu = torch.relu
    return ((relu(-r).mean() + relu(f).mean(),
             say(en="a margin of 0, relu(−real) + relu(fake); the hinge margin is 1: relu(1 − real) + relu(1 + fake).",
                 zh="间隔取成了 0，relu(−real) + relu(fake)；hinge 的间隔是 1：relu(1 − real) + relu(1 + fake)。")),
            (torch.cat([relu(1 - r), relu(1 + f)]).mean(),
             say(en="one mean over the real and fake terms together; average each term over its own batch, then add.",
                 zh="把真、假两部分的项拼在一起只求了一个均值；应各自在自己的 batch 上求均值，再相加。")),
            (relu(1 + r).mean() + relu(1 - f).mean(),
             say(en="the signs inside the hinges swapped, relu(1 + real) + relu(1 − fake), which trains D to score the "
                    "real data low; use relu(1 − real) + relu(1 + fake).",
                 zh="hinge 内部的符号反了，relu(1 + real) + relu(1 − fake)，会让判别器给真实数据打低分；"
                    "应为 relu(1 − real) + relu(1 + fake)。")),
            (-r.mean() + f.mean(),
             say(en="the Wasserstein critic loss −mean real + mean fake, without the relu; clip each term with "
                    "relu(1 − real) and relu(1 + fake).",
                 zh="写成了没有 relu 的 Wasserstein 评判器损失 −mean real + mean fake；每一项都要用 relu(1 − real)、"
                    "relu(1 + fake) 截断。")))


def likely_g_mistakes(fake):
    f = fake.double().flatten()
    return ((torch.relu(1 - f).mean(),
             say(en="a hinge on the generator too, relu(1 − fake); the hinge GAN's generator loss is plain −mean fake.",
                 zh="生成器也用了 hinge，relu(1 − fake)；hinge GAN 的生成器损失就是 −mean fake。")),
            (f.mean(),
             say(en="+mean fake, the sign flipped; the generator minimizes −mean fake.",
                 zh="写成了 +mean fake，符号反了；生成器最小化的是 −mean fake。")))


def d_oracle(real, fake):
    """Float64 closed form with explicit max(0, ·)."""
    r, f = real.double(), fake.double()
    zero = torch.zeros((), dtype=torch.float64)
    return torch.maximum(zero, 1 - r).mean() + torch.maximum(zero, 1 + f).mean()


def logits(seed, n, spread=2.0):
    """Logits spread over [−spread·3, spread·3], kept at least 0.05 away from the kinks at ±1."""
    g = torch.Generator().manual_seed(seed)
    x = spread * torch.randn(n, generator=g)
    near = ((x.abs() - 1).abs() < 0.05)
    return torch.where(near, x + 0.2 * torch.sign(x), x)


def test_discriminator_loss_matches_the_closed_form(impl):
    real, fake = logits(0, 7), logits(1, 7)
    got = impl.hinge_d_loss(real, fake)
    expect_tensor(got, "hinge_d_loss(real (7,), fake (7,))", shape=(), dtype=torch.float32)
    expect_scalar(got, d_oracle(real, fake).float(), "hinge_d_loss(real (7,), fake (7,))", atol=1e-5, rtol=1e-5,
                  hint=say(en="Signs: the real term is max(0, 1 − ℓ_real), the fake term max(0, 1 + ℓ_fake); the margin "
                              "is 1, not 0. " + HINT_D.en,
                           zh="符号：真样本项是 max(0, 1 − ℓ_real)，假样本项是 max(0, 1 + ℓ_fake)；间隔是 1，不是 0。"
                              + HINT_D.zh),
                  likely=likely_d_mistakes(real, fake))


def test_each_term_is_averaged_over_its_own_batch(impl):
    # 3 real and 8 fake logits: a mean over the concatenated 11 terms weights them differently.
    real = torch.tensor([0.5, -0.3, 2.0])
    fake = torch.tensor([0.2, -2.0, 1.5, -0.5, 0.0, -3.0, 0.7, 2.5])
    got = impl.hinge_d_loss(real, fake)
    want = (0.5 + 1.3 + 0.0) / 3 + (1.2 + 0.0 + 2.5 + 0.5 + 1.0 + 0.0 + 1.7 + 3.5) / 8
    expect_scalar(got, want, say(en="hinge_d_loss with 3 real and 8 fake logits",
                                 zh="3 个真样本 logit、8 个假样本 logit 时的 hinge_d_loss"), atol=1e-5, rtol=1e-5,
                  hint=say(en="Average the real term over the real batch and the fake term over the fake batch, then "
                              "add them — not one mean over all 11 terms. " + HINT_D.en,
                           zh="真样本项在真样本 batch 上求均值，假样本项在假样本 batch 上求均值，再相加——"
                              "不是对全部 11 项求一个均值。" + HINT_D.zh),
                  likely=likely_d_mistakes(real, fake))


def test_zero_loss_once_the_margins_are_met(impl):
    real = torch.tensor([1.2, 3.0, 1.05, 8.0])
    fake = torch.tensor([-1.1, -4.0, -2.5])
    got = impl.hinge_d_loss(real, fake)
    expect_scalar(got, 0.0, say(en="hinge_d_loss with every real logit > 1 and every fake logit < −1",
                                zh="所有真样本 logit > 1、所有假样本 logit < −1 时的 hinge_d_loss"), atol=1e-7,
                  hint=say(en="Past the margin an example costs nothing: that is the point of the hinge (max(0, ·)). A "
                              "non-zero value means the relu is missing (a Wasserstein-style −real + fake) or the "
                              "margin or the signs are wrong. " + HINT_D.en,
                           zh="越过间隔的样本不产生损失：这正是 hinge（max(0, ·)）的意义。结果不为 0 说明缺了 relu"
                              "（成了 Wasserstein 式的 −real + fake），或者间隔、符号不对。" + HINT_D.zh),
                  likely=likely_d_mistakes(real, fake))
    inside = impl.hinge_d_loss(torch.tensor([0.5]), torch.tensor([-0.5]))
    expect_scalar(inside, 1.0, "hinge_d_loss(real=[0.5], fake=[−0.5])", atol=1e-6,
                  hint=say(en="Inside the margin: max(0, 1 − 0.5) + max(0, 1 − 0.5) = 1. " + HINT_D.en,
                           zh="在间隔之内：max(0, 1 − 0.5) + max(0, 1 − 0.5) = 1。" + HINT_D.zh),
                  likely=likely_d_mistakes(torch.tensor([0.5]), torch.tensor([-0.5])))


def test_discriminator_gradients_vanish_outside_the_margin_only(impl):
    real = torch.tensor([2.5, 0.4, -1.5, 1.3, 0.9])  # > 1 at indices 0 and 3
    fake = torch.tensor([-2.0, 0.3, -0.6, 1.8])  # < −1 at index 0
    r, f = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
    loss = impl.hinge_d_loss(r, f)
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           say(en="hinge_d_loss's result carries no gradient — build it from torch operations on the logits",
               zh="hinge_d_loss 的结果不带梯度——要用作用在 logits 上的 torch 运算来构造它"))
    loss.backward()
    want_r = torch.where(real > 1, 0.0, -1.0 / 5)  # ∂/∂ℓ_real of mean max(0, 1 − ℓ)
    want_f = torch.where(fake < -1, 0.0, 1.0 / 4)  # ∂/∂ℓ_fake of mean max(0, 1 + ℓ)
    causes = [c for _, c in likely_d_mistakes(real, fake)]  # no margin, one mean, signs swapped, Wasserstein
    likely_r = ((torch.where(real > 0, 0.0, -1.0 / 5), causes[0]), (torch.where(real > 1, 0.0, -1.0 / 9), causes[1]),
                (torch.where(real > -1, 1.0 / 5, 0.0), causes[2]), (torch.full((5,), -1.0 / 5), causes[3]))
    likely_f = ((torch.where(fake < 0, 0.0, 1.0 / 4), causes[0]), (torch.where(fake < -1, 0.0, 1.0 / 9), causes[1]),
                (torch.where(fake < 1, -1.0 / 4, 0.0), causes[2]), (torch.full((4,), 1.0 / 4), causes[3]))
    expect_close(r.grad, want_r, say(en="∂hinge_d_loss/∂real_logits for real = [2.5, 0.4, −1.5, 1.3, 0.9]",
                                     zh="real = [2.5, 0.4, −1.5, 1.3, 0.9] 时的 ∂hinge_d_loss/∂real_logits"), atol=1e-6,
                 hint=say(en="Real logits above +1 must get zero gradient and those below −1/B_real. " + HINT_D.en,
                          zh="高于 +1 的真样本 logit 梯度必须为 0，低于 +1 的梯度为 −1/B_real。" + HINT_D.zh),
                 likely=likely_r)
    expect_close(f.grad, want_f, say(en="∂hinge_d_loss/∂fake_logits for fake = [−2, 0.3, −0.6, 1.8]",
                                     zh="fake = [−2, 0.3, −0.6, 1.8] 时的 ∂hinge_d_loss/∂fake_logits"), atol=1e-6,
                 hint=say(en="Fake logits below −1 must get zero gradient and those above +1/B_fake. " + HINT_D.en,
                          zh="低于 −1 的假样本 logit 梯度必须为 0，高于 −1 的梯度为 +1/B_fake。" + HINT_D.zh),
                 likely=likely_f)


def test_generator_loss_is_minus_the_mean_logit_with_gradient_everywhere(impl):
    fake = torch.tensor([3.0, -0.2, 1.5, -4.0, 0.7, 2.2])
    f = fake.clone().requires_grad_(True)
    got = impl.hinge_g_loss(f)
    expect_tensor(got, "hinge_g_loss(fake (6,))", shape=(), dtype=torch.float32)
    expect_scalar(got, -fake.double().mean().float(), "hinge_g_loss(fake = [3, −0.2, 1.5, −4, 0.7, 2.2])",
                  atol=1e-6, rtol=1e-6, hint=HINT_G, likely=likely_g_mistakes(fake))
    got.backward()
    expect_close(f.grad, torch.full((6,), -1.0 / 6), "∂hinge_g_loss/∂fake_logits", atol=1e-7,
                 hint=say(en="Every fake logit, even one D already scores above +1, gets gradient −1/B: the generator "
                             "side has no hinge. relu(1 − ℓ) would stop improving samples once they pass the margin. "
                             + HINT_G.en,
                          zh="每个假样本 logit——即使判别器已给它打了 +1 以上——梯度都是 −1/B：生成器一侧没有 hinge。"
                             "relu(1 − ℓ) 会让样本一越过间隔就不再改进。" + HINT_G.zh))


def test_any_shape_of_logits(impl):
    real, fake = logits(2, 6).reshape(6, 1), logits(3, 10).reshape(2, 5, 1)
    expect_scalar(impl.hinge_d_loss(real, fake), d_oracle(real, fake).float(),
                  say(en="hinge_d_loss on real (6, 1) and fake (2, 5, 1) logits",
                      zh="真样本 logits 形状为 (6, 1)、假样本为 (2, 5, 1) 时的 hinge_d_loss"), atol=1e-5, rtol=1e-5,
                  hint=say(en="Means over all elements of each input; do not index a particular dimension. " + HINT_D.en,
                           zh="对每个输入的全部元素求均值；不要只取某一维。" + HINT_D.zh),
                  likely=likely_d_mistakes(real, fake))
    expect_scalar(impl.hinge_g_loss(fake), -fake.double().mean().float(),
                  say(en="hinge_g_loss on fake (2, 5, 1)", zh="假样本形状为 (2, 5, 1) 时的 hinge_g_loss"),
                  atol=1e-6, rtol=1e-6, hint=HINT_G, likely=likely_g_mistakes(fake))


def test_deterministic_and_inputs_unchanged(impl):
    real, fake = logits(4, 5), logits(5, 5)
    r0, f0 = real.clone(), fake.clone()
    expect_deterministic(impl.hinge_d_loss, real, fake, what="hinge_d_loss(real, fake)")
    impl.hinge_g_loss(fake)
    expect(torch.equal(real, r0) and torch.equal(fake, f0),
           say(en="the hinge losses modified their inputs in place (e.g. clamp_ or relu_); use out-of-place ops.",
               zh="hinge 损失原地修改了输入（例如 clamp_ 或 relu_）；请用非原地运算。"))


@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_random_logits(impl, n_real, n_fake, seed):
    real, fake = logits(seed, n_real, 3.0), logits(seed + 1, n_fake, 3.0)
    expect_scalar(impl.hinge_d_loss(real, fake), d_oracle(real, fake).float(),
                  say(en=f"hinge_d_loss on {n_real} real and {n_fake} fake logits",
                      zh=f"{n_real} 个真样本 logit、{n_fake} 个假样本 logit 上的 hinge_d_loss"), atol=1e-5, rtol=1e-5,
                  hint=HINT_D, likely=likely_d_mistakes(real, fake))
    expect_scalar(impl.hinge_g_loss(fake), -fake.double().mean().float(),
                  say(en=f"hinge_g_loss on {n_fake} logits", zh=f"{n_fake} 个 logit 上的 hinge_g_loss"),
                  atol=1e-5, rtol=1e-5, hint=HINT_G, likely=likely_g_mistakes(fake))
