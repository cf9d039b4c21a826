"""reward-model-loss: −mean log σ(r_c − r_r − margin), against a float64 softplus oracle."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, say

HINT = say(en="loss = -F.logsigmoid(r_chosen - r_rejected - margin).mean(), margin 0 when None: one term per PAIR, "
              "on the DIFFERENCE of the two rewards, averaged over the batch.",
           zh="loss = -F.logsigmoid(r_chosen - r_rejected - margin).mean()，margin 为 None 时取 0：每个偏好对一项，"
              "作用在两个奖励之差上，并在 batch 上求平均。")


def likely_bt_mistakes(rc, rr, margin=0.0):
    """What the usual mistakes give on these rewards, each with its cause (expect_scalar(likely=...))."""
    m = torch.as_tensor(margin, dtype=torch.float64)
    z = rc.detach().double() - rr.detach().double()
    out = [(F.softplus(-(z - m)).sum(),
            say(en="a SUM of the per-pair losses; average them over the batch (.mean()).",
                zh="对每个偏好对的损失求了和；应在 batch 上求平均（.mean()）。")),
           (F.binary_cross_entropy_with_logits(torch.cat([rc.detach().double() - m.expand_as(z), rr.detach().double()]),
                                               torch.cat([torch.ones_like(z), torch.zeros_like(z)])),
            say(en="a pointwise binary cross-entropy (r_c labelled 1, r_r labelled 0); the Bradley–Terry loss is "
                   "−log σ(r_c − r_r − m), one term per pair on the reward DIFFERENCE.",
                zh="逐点的二元交叉熵（r_c 标为 1，r_r 标为 0）；Bradley–Terry 损失是 −log σ(r_c − r_r − m)，"
                   "每个偏好对一项，作用在奖励之差上。"))]
    if bool((m != 0).any()):
        out += [(F.softplus(-(z + m)).mean(),
                 say(en="the margin is ADDED, σ(r_c − r_r + m); subtract it: σ(r_c − r_r − m).",
                     zh="把 margin 加上了，σ(r_c − r_r + m)；应减去它：σ(r_c − r_r − m)。")),
                (F.softplus(-z).mean(),
                 say(en="the margin argument is ignored; subtract it from the reward difference.",
                     zh="忽略了 margin 参数；要从奖励之差中减去它。"))]
    return tuple(out)


def oracle(rc, rr, margin=0.0):
    """−log σ(z) = softplus(−z) = log(1 + e^{−z}), written in float64."""
    z = rc.double() - rr.double() - torch.as_tensor(margin, dtype=torch.float64)
    return F.softplus(-z).mean()


def rewards(B, seed, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(B, generator=g), scale * torch.randn(B, generator=g)


def test_matches_oracle_without_margin(impl):
    rc, rr = rewards(8, seed=0)
    expect_scalar(impl.bradley_terry_loss(rc, rr), oracle(rc, rr), "bradley_terry_loss(r_chosen (8,), r_rejected (8,))",
                  atol=1e-6, rtol=1e-5, hint=HINT, likely=likely_bt_mistakes(rc, rr))


def test_margin_as_tensor_float_and_zero_dim_tensor(impl):
    rc, rr = rewards(6, seed=1)
    m = torch.tensor([0.0, 0.5, 1.0, 2.0, 0.3, 1.5])
    expect_scalar(impl.bradley_terry_loss(rc, rr, m), oracle(rc, rr, m), "bradley_terry_loss(..., margin (6,))",
                  atol=1e-6, rtol=1e-5,
                  hint=say(en="The margin is subtracted per pair: σ(r_c − r_r − m_i). ",
                           zh="margin 按偏好对逐个减去：σ(r_c − r_r − m_i)。") + HINT,
                  likely=likely_bt_mistakes(rc, rr, m))
    expect_scalar(impl.bradley_terry_loss(rc, rr, margin=0.7), oracle(rc, rr, 0.7),
                  "bradley_terry_loss(..., margin=0.7)", atol=1e-6, rtol=1e-5,
                  hint=say(en="A Python float margin applies to every pair. ",
                           zh="Python 浮点数形式的 margin 作用于每个偏好对。") + HINT,
                  likely=likely_bt_mistakes(rc, rr, 0.7))
    expect_scalar(impl.bradley_terry_loss(rc, rr, margin=torch.tensor(1.2)), oracle(rc, rr, 1.2),
                  "bradley_terry_loss(..., margin=torch.tensor(1.2))", atol=1e-6, rtol=1e-5, hint=HINT,
                  likely=likely_bt_mistakes(rc, rr, 1.2))


def test_margin_makes_the_loss_larger(impl):
    # A positive margin demands r_c − r_r ≥ m: the same rewards now look worse, so the loss goes UP.
    rc, rr = torch.tensor([1.0, 0.5, 2.0]), torch.tensor([0.0, 0.2, 1.0])
    plain = impl.bradley_terry_loss(rc, rr)
    with_margin = impl.bradley_terry_loss(rc, rr, margin=1.0)
    expect(float(with_margin) > float(plain) + 0.1,
           say(en=f"bradley_terry_loss with margin=1.0 gave {float(with_margin):.4f}, without a margin "
                  f"{float(plain):.4f}; a positive margin must RAISE the loss (it is −log σ(r_c − r_r − m)). "
                  "Did you add the margin instead of subtracting it, or ignore it?",
               zh=f"margin=1.0 时 bradley_terry_loss 得到 {float(with_margin):.4f}，不加 margin 时为 {float(plain):.4f}；"
                  "正的 margin 必须让损失变大（损失是 −log σ(r_c − r_r − m)）。是不是把 margin 加上了而不是减去，"
                  "或者忽略了它？"))
    expect_scalar(with_margin, oracle(rc, rr, 1.0), "bradley_terry_loss(r_c, r_r, margin=1.0)", atol=1e-6, rtol=1e-5,
                  hint=HINT, likely=likely_bt_mistakes(rc, rr, 1.0))


def test_margin_none_is_margin_zero(impl):
    rc, rr = rewards(5, seed=2)
    a, b = impl.bradley_terry_loss(rc, rr), impl.bradley_terry_loss(rc, rr, margin=0.0)
    expect_scalar(a, float(b), say(en="bradley_terry_loss(r_c, r_r) versus margin=0.0",
                                   zh="bradley_terry_loss(r_c, r_r) 与 margin=0.0 的对比"), atol=1e-7, rtol=0,
                  hint=say(en="margin=None means no margin, i.e. 0.", zh="margin=None 表示没有 margin，即 0。"))


def test_invariant_to_a_constant_added_to_both_rewards(impl):
    # Only the difference of the rewards is identified by preferences: a reward model's offset is arbitrary.
    rc, rr = rewards(6, seed=3)
    base = impl.bradley_terry_loss(rc, rr)
    for c in (-7.0, 5.0):
        shifted = impl.bradley_terry_loss(rc + c, rr + c)
        expect_scalar(shifted, float(base), f"bradley_terry_loss(r_c + {c}, r_r + {c})", atol=1e-5, rtol=1e-5,
                      hint=say(en="The loss may depend on r_c − r_r only. Scoring each reward on its own (a binary "
                                  "cross-entropy with r_c as a 'good' logit and r_r as a 'bad' logit) is not the "
                                  "Bradley–Terry loss.",
                               zh="损失只能依赖 r_c − r_r。对每个奖励单独打分（把 r_c 当作「好」的 logit、r_r 当作"
                                  "「坏」的 logit 做二元交叉熵）不是 Bradley–Terry 损失。"))


def test_finite_and_correct_for_huge_reward_differences(impl):
    rc = torch.tensor([1e4, -1e4, 0.5])
    rr = torch.tensor([0.0, 0.0, 0.0])
    got = impl.bradley_terry_loss(rc, rr)
    expect(bool(torch.isfinite(got).all()),
           say(en=f"bradley_terry_loss with reward differences ±1e4 returned {got}; log(sigmoid(-1e4)) = log(0) = -inf "
                  "in float32 — use F.logsigmoid (or softplus(−z)).",
               zh=f"奖励差为 ±1e4 时 bradley_terry_loss 返回了 {got}；在 float32 下 log(sigmoid(-1e4)) = log(0) = -inf"
                  "——要用 F.logsigmoid（或 softplus(−z)）。"))
    expect_scalar(got, oracle(rc, rr), say(en="bradley_terry_loss with reward differences +1e4, −1e4, 0.5",
                                           zh="奖励差为 +1e4、−1e4、0.5 时的 bradley_terry_loss"), atol=1e-3,
                  rtol=1e-5, hint=say(en="A pair ranked wrong by 1e4 costs about 1e4; one ranked right by 1e4 costs ~0. ",
                                      zh="排错 1e4 的偏好对损失约为 1e4；排对 1e4 的损失约为 0。") + HINT,
                  likely=likely_bt_mistakes(rc, rr))


def test_gradient_raises_chosen_and_lowers_rejected(impl):
    rc, rr = rewards(5, seed=4)
    rc.requires_grad_(True)
    rr.requires_grad_(True)
    impl.bradley_terry_loss(rc, rr, margin=0.5).backward()
    expect(rc.grad is not None and rr.grad is not None,
           say(en="bradley_terry_loss must be differentiable w.r.t. the rewards", zh="bradley_terry_loss 必须对奖励可微"))
    # dL/dr_c = −σ(−(r_c − r_r − m)) / B; dL/dr_r = −dL/dr_c.
    z = (rc.detach() - rr.detach()).double() - 0.5
    want = (-torch.sigmoid(-z) / 5).float()
    expect_close(rc.grad, want, "d bradley_terry_loss / d r_chosen", atol=1e-6, rtol=1e-4,
                 hint=say(en="The gradient must be negative (descent raises the chosen reward) and largest for pairs "
                             "the model gets wrong: −σ(−z)/B with z = r_c − r_r − m. Mean over the batch, not the sum?",
                          zh="梯度必须为负（下降会提高被选回答的奖励），并且在模型排错的偏好对上最大："
                             "−σ(−z)/B，其中 z = r_c − r_r − m。在 batch 上求的是平均而不是和吗？"),
                 likely=((want * 5, say(en="a SUM of the per-pair losses; average them over the batch (.mean()).",
                                        zh="对每个偏好对的损失求了和；应在 batch 上求平均（.mean()）。")),))
    expect_close(rr.grad, -want, "d bradley_terry_loss / d r_rejected", atol=1e-6, rtol=1e-4,
                 hint=say(en="The rejected reward's gradient is the negative of the chosen one's. ",
                          zh="被拒回答奖励的梯度是被选回答梯度的相反数。") + HINT)


def test_is_deterministic_and_zero_dim(impl):
    rc, rr = rewards(4, seed=5)
    got = expect_deterministic(impl.bradley_terry_loss, rc, rr, what="bradley_terry_loss")
    expect_scalar(got, oracle(rc, rr), "bradley_terry_loss(r_c (4,), r_r (4,))", atol=1e-6, rtol=1e-5, hint=HINT,
                  likely=likely_bt_mistakes(rc, rr))


@given(st.integers(1, 5), st.floats(-2.0, 2.0), st.integers(0, 2**16))
def test_property_any_batch_and_margin(impl, B, margin, seed):
    rc, rr = rewards(B, seed, scale=3.0)
    expect_scalar(impl.bradley_terry_loss(rc, rr, margin), oracle(rc, rr, margin),
                  say(en=f"bradley_terry_loss on a batch of {B} with margin={margin}",
                      zh=f"batch 大小为 {B}、margin={margin} 时的 bradley_terry_loss"), atol=1e-5, rtol=1e-5, hint=HINT,
                  likely=likely_bt_mistakes(rc, rr, margin))
