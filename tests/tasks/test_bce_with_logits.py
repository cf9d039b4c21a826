"""bce-with-logits: mean binary cross-entropy computed from logits, targets in [0, 1]."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_unchanged, say

HINT = say(en="Per element: max(ℓ, 0) − ℓ·y + log(1 + exp(−|ℓ|)); then the mean over ALL elements "
              "(as F.binary_cross_entropy_with_logits does).",
           zh="逐元素计算：max(ℓ, 0) − ℓ·y + log(1 + exp(−|ℓ|))；再对所有元素求均值"
              "（与 F.binary_cross_entropy_with_logits 相同）。")


def oracle(logits, target):
    return F.binary_cross_entropy_with_logits(logits.double(), target.double())


def likely_bce_mistakes(logits, target):
    """What the usual BCE mistakes give on (logits, target), each with its cause."""
    y = target.double()
    p = torch.sigmoid(logits.double()).clamp(1e-7, 1 - 1e-7)
    return ((F.binary_cross_entropy_with_logits(logits.double(), y, reduction="sum"),
             say(en="the element losses summed; take their mean over all elements.",
                 zh="把逐元素损失求和了；应对所有元素求均值。")),
            (-(y * p.log() + (1 - y) * (1 - p).log()).mean(),
             say(en="probabilities clamped to [1e-7, 1 − 1e-7]; a confident wrong logit then costs ~16 instead of |ℓ|. "
                    "Work in logits: max(ℓ, 0) − ℓ·y + log1p(exp(−|ℓ|)).",
                 zh="把概率截断到 [1e-7, 1 − 1e-7]；这样自信的错误 logit 只罚约 16，而不是 |ℓ|。应直接用 logits 计算："
                    "max(ℓ, 0) − ℓ·y + log1p(exp(−|ℓ|))。")))


def test_matches_pytorch_with_soft_targets(impl):
    g = torch.Generator().manual_seed(0)
    logits = 4 * torch.randn(5, 3, generator=g)
    target = torch.rand(5, 3, generator=g)  # soft labels in [0, 1]
    before = logits.clone()
    got = impl.bce_with_logits(logits, target)
    expect_scalar(got, oracle(before, target), say(en="bce_with_logits(logits (5, 3), soft targets)",
                                                   zh="bce_with_logits(logits (5, 3), 软标签)"), atol=1e-5, hint=HINT,
                  likely=likely_bce_mistakes(before, target))
    expect_unchanged(before, logits, say(en="the input logits", zh="输入的 logits"))


def test_matches_pytorch_with_hard_targets_and_any_shape(impl):
    g = torch.Generator().manual_seed(1)
    for shape in [(7,), (2, 3, 4)]:
        logits = 3 * torch.randn(shape, generator=g)
        target = (torch.rand(shape, generator=g) > 0.5).float()
        expect_scalar(impl.bce_with_logits(logits, target), oracle(logits, target),
                      say(en=f"bce_with_logits on logits of shape {shape} with 0/1 targets",
                          zh=f"logits 形状为 {shape}、目标为 0/1 时的 bce_with_logits"), atol=1e-5, hint=HINT,
                      likely=likely_bce_mistakes(logits, target))


def test_finite_and_correct_at_logits_of_magnitude_1e4(impl):
    logits = torch.tensor([1e4, 1e4, -1e4, -1e4, 1e4, -1e4, 0.0])
    target = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5, 0.25, 1.0])
    got = impl.bce_with_logits(logits, target)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()),
           say(en=f"bce_with_logits with logits of magnitude 1e4 returned {got!r}; the loss is finite (a confident "
                  "wrong answer costs about 1e4). σ(±1e4) rounds to exactly 0 or 1, so log σ or log(1 − σ) is −inf; "
                  "and exp(1e4) overflows (e.g. log(1 + exp(−ℓ)) at ℓ = −1e4). Use max(ℓ, 0) − ℓ·y + "
                  "log1p(exp(−|ℓ|)).",
               zh=f"logits 量级为 1e4 时 bce_with_logits 返回了 {got!r}；损失应是有限的（自信的错误答案代价约为 1e4）。"
                  "σ(±1e4) 会被舍入成恰好 0 或 1，于是 log σ 或 log(1 − σ) 为 −inf；exp(1e4) 也会溢出"
                  "（例如 ℓ = −1e4 时的 log(1 + exp(−ℓ))）。应使用 max(ℓ, 0) − ℓ·y + log1p(exp(−|ℓ|))。"))
    expect_scalar(got, oracle(logits, target), say(en="bce_with_logits with logits of magnitude 1e4",
                                                   zh="logits 量级为 1e4 时的 bce_with_logits"), atol=1e-2, rtol=1e-5,
                  hint=say(en="A confident wrong prediction must cost ≈ |ℓ| (here 1e4), not a clamped log(1e-7) ≈ 16. "
                              + HINT.en,
                           zh="自信的错误预测代价必须约为 |ℓ|（这里是 1e4），而不是截断后的 log(1e-7) ≈ 16。" + HINT.zh),
                  likely=likely_bce_mistakes(logits, target))


def test_gradient_is_sigmoid_minus_target_over_count(impl):
    g = torch.Generator().manual_seed(2)
    logits = (5 * torch.randn(3, 4, generator=g)).requires_grad_()
    target = torch.rand(3, 4, generator=g)
    loss = impl.bce_with_logits(logits, target)
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           say(en="bce_with_logits's result does not require grad — do not detach or use .item() inside the loss.",
               zh="bce_with_logits 的结果不需要梯度——不要在损失内部 detach 或使用 .item()。"))
    loss.backward()
    want = (torch.sigmoid(logits.detach().double()) - target.double()) / 12
    expect_close(logits.grad, want.float(), "∂bce_with_logits/∂logits", atol=1e-6,
                 hint=say(en="The gradient of the mean BCE is (σ(ℓ) − y) / N, N the number of elements.",
                          zh="平均 BCE 的梯度是 (σ(ℓ) − y) / N，N 为元素个数。"),
                 likely=((want * 12, say(en="the element losses summed (gradient σ(ℓ) − y, N times too large); take "
                                            "their mean.",
                                         zh="把逐元素损失求和了（梯度为 σ(ℓ) − y，大了 N 倍）；应求均值。")),))


def test_keeps_float64(impl):
    logits, target = torch.randn(4, dtype=torch.float64), torch.rand(4, dtype=torch.float64)
    expect_scalar(impl.bce_with_logits(logits, target), oracle(logits, target),
                  say(en="bce_with_logits of float64 inputs", zh="float64 输入的 bce_with_logits"),
                  atol=1e-10, rtol=1e-10, dtype=torch.float64, hint=HINT, likely=likely_bce_mistakes(logits, target))


@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.sampled_from([1.0, 10.0, 100.0, 1e4]),
       st.integers(0, 2**16))
def test_property_any_shape_and_scale(impl, shape, scale, seed):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(shape, generator=g)
    target = torch.rand(shape, generator=g)
    expect_scalar(impl.bce_with_logits(logits, target), oracle(logits, target),
                  say(en=f"bce_with_logits(logits of shape {tuple(shape)} × {scale:g})",
                      zh=f"bce_with_logits(形状为 {tuple(shape)} 的 logits × {scale:g})"), atol=1e-4, rtol=1e-4, hint=HINT,
                  likely=likely_bce_mistakes(logits, target))
