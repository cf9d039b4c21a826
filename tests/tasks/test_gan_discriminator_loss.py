"""gan-discriminator-loss: mean BCE(real → 1) + mean BCE(fake → 0), on logits."""
import math

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_scalar, say, usual_cause

HINT = say(en="L_D = mean(−log σ(real_logits)) + mean(−log(1 − σ(fake_logits))): two separate means, "
              "and D minimizes it (−V(D, G)). On logits, −log σ(ℓ) = softplus(−ℓ) and −log(1 − σ(ℓ)) = softplus(ℓ).",
           zh="L_D = mean(−log σ(real_logits)) + mean(−log(1 − σ(fake_logits)))：两个各自的均值相加，"
              "D 要最小化它（即 −V(D, G)）。用 logits 表示时，−log σ(ℓ) = softplus(−ℓ)，−log(1 − σ(ℓ)) = softplus(ℓ)。")


def oracle(real_logits, fake_logits):
    r, f = real_logits.double(), fake_logits.double()
    return (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))).float()


def likely_d_mistakes(real_logits, fake_logits):
    """What the usual discriminator-loss mistakes give, each with its cause."""
    r, f = real_logits.double().flatten(), fake_logits.double().flatten()
    both = torch.cat([F.softplus(-r), F.softplus(f)])
    return (((F.softplus(r).mean() + F.softplus(-f).mean()).float(),
             say(en="the labels swapped (real → 0, fake → 1); real logits are labelled 1 and fake logits 0.",
                 zh="标签弄反了（真 → 0，假 → 1）；真样本的 logits 标签为 1，假样本的为 0。")),
            (both.mean().float(),
             say(en="ONE mean over the concatenated real and fake batches; take a mean per batch and add the two.",
                 zh="把真、假两个 batch 拼在一起只求了一个均值；应对每个 batch 分别求均值再相加。")),
            ((-(F.softplus(-r).mean() + F.softplus(f).mean())).float(),
             say(en="the wrong sign: this is V(D, G), which D maximizes; its loss is −V.",
                 zh="符号反了：这是 D 要最大化的 V(D, G)；它的损失应是 −V。")))


def test_matches_the_bce_oracle(impl):
    g = torch.Generator().manual_seed(0)
    real, fake = 3 * torch.randn(16, generator=g), 3 * torch.randn(16, generator=g)
    expect_scalar(impl.discriminator_loss(real, fake), oracle(real, fake),
                  "discriminator_loss(real_logits (16,), fake_logits (16,))", atol=1e-5, rtol=1e-5, hint=HINT,
                  likely=likely_d_mistakes(real, fake))


def test_separate_means_for_batches_of_different_sizes(impl):
    # One mean over the concatenated batch would weight the two terms by their sizes (and halve the loss).
    g = torch.Generator().manual_seed(1)
    real, fake = 2 * torch.randn(6, 1, generator=g) + 1, 2 * torch.randn(2, 1, generator=g) - 1
    expect_scalar(impl.discriminator_loss(real, fake), oracle(real, fake),
                  "discriminator_loss(real_logits (6, 1), fake_logits (2, 1))", atol=1e-5, rtol=1e-5,
                  hint=say(en="Average the real term over the real batch and the fake term over the fake batch, then "
                              "add. " + HINT.en,
                           zh="真样本项在真 batch 上求均值，假样本项在假 batch 上求均值，再相加。" + HINT.zh),
                  likely=likely_d_mistakes(real, fake))


def test_finite_and_correct_at_huge_logits(impl):
    real = torch.tensor([1e4, -1e4, 0.0, 30.0])
    fake = torch.tensor([-1e4, 1e4, 1e4, -30.0])
    # expected: real terms (0 + 1e4 + log 2 + ~0)/4, fake terms (0 + 1e4 + 1e4 + ~0)/4
    expect_scalar(impl.discriminator_loss(real, fake), oracle(real, fake),
                  say(en="discriminator_loss with logits ±1e4", zh="logits 为 ±1e4 时的 discriminator_loss"),
                  atol=1e-2, rtol=1e-5,
                  hint=say(en="σ(ℓ) rounds to exactly 0 or 1 for |ℓ| ≳ 17, so log(σ(ℓ)) gives −inf; work on logits "
                              "(softplus, logsigmoid or BCE-with-logits) instead of taking log of probabilities.",
                           zh="|ℓ| ≳ 17 时 σ(ℓ) 会被舍入成恰好 0 或 1，于是 log(σ(ℓ)) 得到 −inf；要直接用 logits 计算"
                              "（softplus、logsigmoid 或 BCE-with-logits），不要对概率取 log。"),
                  likely=likely_d_mistakes(real, fake))


def test_decreases_as_the_discriminator_separates_real_from_fake(impl):
    margins = [-4.0, -1.0, 0.0, 0.5, 2.0, 6.0]
    losses = []
    for s in margins:
        real, fake = torch.full((8,), s), torch.full((8,), -s)
        losses.append(float(impl.discriminator_loss(real, fake)))
    zeros = torch.zeros(8)
    cause = usual_cause(losses[2], likely_d_mistakes(zeros, zeros), HINT)
    expect(abs(losses[2] - 2 * math.log(2)) < 1e-5,
           say(en=f"with all logits 0 (D says 1/2 everywhere) discriminator_loss must be 2·log 2 = "
                  f"{2 * math.log(2):.6f}, got {losses[2]:.6f}. {cause.en}",
               zh=f"所有 logits 都为 0 时（D 处处输出 1/2），discriminator_loss 必须是 2·log 2 = {2 * math.log(2):.6f}，"
                  f"实际是 {losses[2]:.6f}。{cause.zh}"))
    for (s0, l0), (s1, l1) in zip(zip(margins, losses), zip(margins[1:], losses[1:])):
        expect(l1 < l0,
               say(en=f"discriminator_loss should fall as real logits rise and fake logits fall, but with real = +{s0}, "
                      f"fake = −{s0} it is {l0:.4f} and with real = +{s1}, fake = −{s1} it is {l1:.4f}. "
                      "Is the sign right, and are real logits labelled 1? D maximizes V(D, G), so its loss is −V.",
                   zh=f"随着真样本 logits 升高、假样本 logits 降低，discriminator_loss 应当下降；但 real = +{s0}、"
                      f"fake = −{s0} 时为 {l0:.4f}，real = +{s1}、fake = −{s1} 时为 {l1:.4f}。符号对吗？真样本的标签"
                      "是 1 吗？D 要最大化 V(D, G)，所以它的损失是 −V。"))


def test_gradients_push_real_logits_up_and_fake_logits_down(impl):
    real = torch.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    fake = torch.tensor([-3.0, 0.0, 2.0, 1.0], requires_grad=True)
    impl.discriminator_loss(real, fake).backward()
    expect(real.grad is not None and fake.grad is not None,
           say(en="discriminator_loss must be differentiable w.r.t. both logit tensors (no .detach(), .item() or numpy)",
               zh="discriminator_loss 必须对两个 logits 张量都可微（不要用 .detach()、.item() 或 numpy）"))
    r, f = real.detach(), fake.detach()
    want_real = -(1 - torch.sigmoid(r)) / 3  # d/dℓ of mean softplus(−ℓ)
    want_fake = torch.sigmoid(f) / 4  # d/dℓ of mean softplus(ℓ)
    ok = bool(torch.allclose(real.grad, want_real, atol=1e-6)) and bool(torch.allclose(fake.grad, want_fake, atol=1e-6))
    if bool(torch.allclose(real.grad, -want_real, atol=1e-6)):
        cause = say(en="The signs are reversed: the loss is V instead of −V, or the labels are swapped.",
                    zh="符号反了：损失用了 V 而不是 −V，或者标签弄反了。")
    elif bool(torch.allclose(real.grad, want_real * 3 / 7, atol=1e-6)):
        cause = say(en="Both gradients are divided by 7, the combined batch: one mean over both batches; take a mean per "
                       "batch.",
                    zh="两个梯度都除以了 7，即合并后的 batch 大小：对两个 batch 只求了一个均值；应分别求均值。")
    else:
        cause = HINT
    expect(ok,
           say(en=f"∂L_D/∂real_logits = {real.grad.tolist()} (expected {want_real.tolist()}, all negative) and "
                  f"∂L_D/∂fake_logits = {fake.grad.tolist()} (expected {want_fake.tolist()}, all positive). {cause.en}",
               zh=f"∂L_D/∂real_logits = {real.grad.tolist()}（应为 {want_real.tolist()}，全为负），"
                  f"∂L_D/∂fake_logits = {fake.grad.tolist()}（应为 {want_fake.tolist()}，全为正）。{cause.zh}"))


@given(st.lists(st.floats(-20, 20), min_size=1, max_size=5), st.lists(st.floats(-20, 20), min_size=1, max_size=5))
def test_property_any_logits(impl, real, fake):
    r, f = torch.tensor(real), torch.tensor(fake)
    expect_scalar(impl.discriminator_loss(r, f), oracle(r, f), f"discriminator_loss({real}, {fake})",
                  atol=1e-5, rtol=1e-5, hint=HINT, likely=likely_d_mistakes(r, f))
