"""cross-entropy: mean negative log-likelihood of integer targets under softmax(logits)."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_unchanged, say

HINT = say(en="Per row: −log p_y = logsumexp(logits) − logits[y], with the max subtracted inside the logsumexp "
              "(per row); then the mean over the batch.",
           zh="逐行计算：−log p_y = logsumexp(logits) − logits[y]，在 logsumexp 内部减去（每行的）最大值；"
              "再对 batch 求均值。")


def oracle(logits, target):
    return F.cross_entropy(logits.double(), target)


def likely_ce_mistakes(logits, target):
    """What the usual cross-entropy mistakes give, each with its cause."""
    log_probs = torch.log_softmax(logits.double(), dim=-1)
    return ((F.cross_entropy(logits.double(), target, reduction="sum"),
             say(en="the per-example losses summed; average them over the batch.",
                 zh="把每个样本的损失求和了；应对 batch 求均值。")),
            (-log_probs[:, target].mean(),
             say(en="logits[:, target] indexed, a (B, B) matrix that scores every row against every target; take row "
                    "b's entry at column target[b]: logits[torch.arange(B), target] or gather.",
                 zh="用了 logits[:, target]，这是一个 (B, B) 矩阵，把每一行都和所有目标配对；应取第 b 行第 target[b] "
                    "列：logits[torch.arange(B), target] 或 gather。")))


def test_matches_pytorch_on_random_logits(impl):
    g = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(6, 5, generator=g)
    target = torch.tensor([0, 4, 2, 2, 1, 3])
    before = logits.clone()
    got = impl.cross_entropy(logits, target)
    expect_scalar(got, oracle(before, target), "cross_entropy(logits (6, 5), target (6,))", atol=1e-5,
                  hint=HINT, likely=likely_ce_mistakes(before, target))
    expect_unchanged(before, logits, say(en="the input logits", zh="输入的 logits"))


def test_target_indexes_each_row(impl):
    # Every row picks a different column; logits[:, target] (a (B, B) matrix) or a shared index goes wrong.
    logits = torch.tensor([[2.0, 0.0, -1.0, 0.5], [0.0, 3.0, 1.0, -2.0], [1.0, 1.0, 1.0, 4.0]])
    target = torch.tensor([3, 0, 2])
    expect_scalar(impl.cross_entropy(logits, target), oracle(logits, target),
                  "cross_entropy(target=[3, 0, 2])", atol=1e-5,
                  hint=say(en="Take row b's logit at column target[b]: logits.gather(1, target[:, None]) or "
                              "logits[torch.arange(B), target].",
                           zh="取第 b 行第 target[b] 列的 logit：logits.gather(1, target[:, None]) 或 "
                              "logits[torch.arange(B), target]。"),
                  likely=likely_ce_mistakes(logits, target))


def test_mean_over_the_batch_not_the_sum(impl):
    logits = torch.zeros(8, 4)
    target = torch.zeros(8, dtype=torch.long)
    expect_scalar(impl.cross_entropy(logits, target), torch.log(torch.tensor(4.0)),
                  say(en="cross_entropy of uniform logits over 4 classes, batch of 8",
                      zh="4 个类别上 logits 均匀、batch 为 8 时的 cross_entropy"), atol=1e-6,
                  hint=say(en="Uniform logits give −log(1/C) = log C per row; average over the batch, do not sum.",
                           zh="logits 均匀时每行的损失是 −log(1/C) = log C；要对 batch 求均值，不要求和。"),
                  likely=likely_ce_mistakes(logits, target))


def test_finite_and_correct_at_logits_of_magnitude_1e4(impl):
    logits = torch.tensor([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4 + 3.0], [5e3, 5e3, 5e3]])
    target = torch.tensor([0, 2, 1, 1])
    got = impl.cross_entropy(logits, target)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()),
           say(en=f"cross_entropy with logits of magnitude 1e4 returned {got!r}; the loss is finite (row 2 costs 2e4). "
                  "exp(1e4) overflows and softmax probabilities underflow to 0 (log 0 = −inf) in float32: compute "
                  "logsumexp(logits) − logits[y] with the row max subtracted, never log(softmax(logits)).",
               zh=f"logits 量级为 1e4 时 cross_entropy 返回了 {got!r}；损失应是有限的（第 2 行的代价是 2e4）。在 "
                  "float32 下 exp(1e4) 会溢出，softmax 概率会下溢成 0（log 0 = −inf）：应减去每行最大值后计算 "
                  "logsumexp(logits) − logits[y]，绝不要算 log(softmax(logits))。"))
    expect_scalar(got, oracle(logits, target), say(en="cross_entropy with logits of magnitude 1e4",
                                                   zh="logits 量级为 1e4 时的 cross_entropy"), atol=1e-2, rtol=1e-5,
                  hint=HINT, likely=likely_ce_mistakes(logits, target))


def test_rows_with_very_different_scales(impl):
    logits = torch.tensor([[1e4, 1e4 - 2.0], [0.0, 1.0], [-1e4, -1e4 + 1.0]])
    target = torch.tensor([1, 0, 0])
    expect_scalar(impl.cross_entropy(logits, target), oracle(logits, target),
                  say(en="cross_entropy of rows with very different magnitudes", zh="各行量级相差很大时的 cross_entropy"),
                  atol=1e-4,
                  hint=say(en="Subtract each row's own max (amax over dim=-1, keepdim=True), not one max of the whole "
                              "tensor.",
                           zh="要减去每行自己的最大值（沿 dim=-1 取 amax，keepdim=True），不是整个张量的一个最大值。"),
                  likely=likely_ce_mistakes(logits, target))


def test_gradient_is_softmax_minus_one_hot_over_batch(impl):
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 6, generator=g, requires_grad=True)
    target = torch.tensor([5, 0, 3, 3])
    loss = impl.cross_entropy(logits, target)
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           say(en="cross_entropy's result does not require grad — do not detach, use .item() or numpy inside the loss.",
               zh="cross_entropy 的结果不需要梯度——不要在损失内部 detach、使用 .item() 或 numpy。"))
    loss.backward()
    want = (torch.softmax(logits.detach().double(), -1) - F.one_hot(target, 6).double()) / 4
    expect_close(logits.grad, want.float(), "∂cross_entropy/∂logits", atol=1e-6,
                 hint=say(en="The gradient of the mean NLL is (softmax(logits) − one_hot(target)) / B.",
                          zh="平均 NLL 的梯度是 (softmax(logits) − one_hot(target)) / B。"),
                 likely=((want * 4, say(en="the losses summed over the batch (gradient B times too large); average them.",
                                        zh="对 batch 求和了（梯度大了 B 倍）；应求均值。")),))


def test_keeps_float64(impl):
    logits = torch.randn(3, 4, dtype=torch.float64)
    target = torch.tensor([1, 3, 0])
    expect_scalar(impl.cross_entropy(logits, target), oracle(logits, target),
                  say(en="cross_entropy of float64 logits", zh="float64 logits 的 cross_entropy"),
                  atol=1e-10, rtol=1e-10, dtype=torch.float64, hint=HINT, likely=likely_ce_mistakes(logits, target))


@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from([1.0, 10.0, 1000.0]), st.integers(0, 2**16))
def test_property_any_batch_and_class_count(impl, B, C, scale, seed):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(B, C, generator=g)
    target = torch.randint(0, C, (B,), generator=g)
    expect_scalar(impl.cross_entropy(logits, target), oracle(logits, target),
                  f"cross_entropy(logits ({B}, {C}) × {scale:g}, target {target.tolist()})", atol=1e-4, rtol=1e-5,
                  hint=HINT, likely=likely_ce_mistakes(logits, target))
