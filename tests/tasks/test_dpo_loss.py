"""dpo-loss: mean of −log σ(β[(π_c − r_c) − (π_r − r_r)]), checked against an F.logsigmoid oracle in float64."""
import math

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_scalar, say

HINT = say(en="loss = -logsigmoid(beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))).mean(); "
              "use F.logsigmoid, not log(sigmoid(.)), and keep beta inside the sigmoid.",
           zh="loss = -logsigmoid(beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))).mean()；"
              "用 F.logsigmoid，不要用 log(sigmoid(.))，并且 beta 要放在 sigmoid 里面。")


def oracle(pc, pr, rc, rr, beta=0.1):
    margin = beta * ((pc.double() - rc.double()) - (pr.double() - rr.double()))
    return -F.logsigmoid(margin).mean()


def likely_dpo_mistakes(pc, pr, rc, rr, beta=0.1):
    """What the usual DPO mistakes give, each with its cause."""
    pc, pr, rc, rr = (t.detach().double() for t in (pc, pr, rc, rr))
    logits = (pc - rc) - (pr - rr)
    return ((-beta * F.logsigmoid(logits).mean(),
             say(en="beta multiplies the loss (−β·log σ(margin)); it must scale the log-ratio difference INSIDE the "
                    "sigmoid.",
                 zh="beta 乘在了损失外面（−β·log σ(margin)）；它应在 sigmoid 里面缩放对数比之差。")),
            (-F.logsigmoid(-beta * logits).mean(),
             say(en="chosen and rejected swapped (the margin is rejected − chosen); use (π_c − r_c) − (π_r − r_r).",
                 zh="chosen 与 rejected 弄反了（margin 成了 rejected − chosen）；应为 (π_c − r_c) − (π_r − r_r)。")),
            (-F.logsigmoid(beta * (pc - pr)).mean(),
             say(en="the reference model dropped (β(π_c − π_r)); DPO's implicit reward is the log-ratio to the "
                    "reference: (π_c − r_c) − (π_r − r_r).",
                 zh="丢掉了参考模型（β(π_c − π_r)）；DPO 的隐式奖励是相对参考模型的对数比：(π_c − r_c) − (π_r − r_r)。")))


def log_probs(B, seed):
    """Summed log-probs of whole responses: negative, tens of nats, different for policy and reference."""
    g = torch.Generator().manual_seed(seed)
    return [-(5 + 60 * torch.rand(B, generator=g)) for _ in range(4)]


def test_matches_oracle_with_a_reference_model(impl):
    pc, pr, rc, rr = log_probs(8, seed=0)
    got = impl.dpo_loss(pc, pr, rc, rr)
    expect_scalar(got, oracle(pc, pr, rc, rr), "dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected)",
                  atol=1e-5, rtol=1e-5, hint=HINT, likely=likely_dpo_mistakes(pc, pr, rc, rr))
    for beta in (0.5, 2.0):
        expect_scalar(impl.dpo_loss(pc, pr, rc, rr, beta=beta), oracle(pc, pr, rc, rr, beta),
                      f"dpo_loss(..., beta={beta})", atol=1e-5, rtol=1e-5, hint=HINT,
                      likely=likely_dpo_mistakes(pc, pr, rc, rr, beta))


def test_policy_equal_to_reference_gives_log_2(impl):
    # At the start of DPO the policy is the reference: every implicit reward is 0 and the loss is log 2,
    # whatever the log-probs are.
    _, _, rc, rr = log_probs(6, seed=1)
    got = impl.dpo_loss(rc.clone(), rr.clone(), rc, rr, beta=0.3)
    expect_scalar(got, math.log(2), say(en="dpo_loss with the policy equal to the reference", zh="策略等于参考模型时的 dpo_loss"),
                  atol=1e-5,
                  hint=say(en="The loss compares the policy's log-probs WITH the reference's: (π_c − r_c) − (π_r − r_r) "
                              "= 0 here, so the loss is −log σ(0) = log 2.",
                           zh="损失比较的是策略相对参考模型的对数概率：这里 (π_c − r_c) − (π_r − r_r) = 0，所以损失是 "
                              "−log σ(0) = log 2。"),
                  likely=likely_dpo_mistakes(rc, rr, rc, rr, 0.3))


def test_finite_for_huge_margins(impl):
    pc = torch.tensor([0.0, -1e5, -3.0])
    pr = torch.tensor([-1e5, 0.0, -3.0])
    zeros = torch.zeros(3)
    got = impl.dpo_loss(pc, pr, zeros, zeros)  # margins β·(±1e5) = ±1e4 and 0
    expect(bool(torch.isfinite(got).all()),
           say(en=f"dpo_loss with margins of ±1e4 returned {got}; log(sigmoid(-1e4)) = log(0) = -inf in float32 — use "
                  "F.logsigmoid.",
               zh=f"margin 为 ±1e4 时 dpo_loss 返回了 {got}；在 float32 下 log(sigmoid(-1e4)) = log(0) = -inf——"
                  "应使用 F.logsigmoid。"))
    expect_scalar(got, oracle(pc, pr, zeros, zeros), say(en="dpo_loss with margins of ±1e4 and 0",
                                                         zh="margin 为 ±1e4 和 0 时的 dpo_loss"), atol=1e-3, rtol=1e-5,
                  hint=HINT, likely=likely_dpo_mistakes(pc, pr, zeros, zeros))


def test_gradient_raises_chosen_and_lowers_rejected(impl):
    pc, pr, rc, rr = log_probs(5, seed=2)
    pc.requires_grad_(True)
    pr.requires_grad_(True)
    impl.dpo_loss(pc, pr, rc, rr, beta=0.5).backward()
    expect(pc.grad is not None and pr.grad is not None,
           say(en="dpo_loss must be differentiable w.r.t. the policy log-probs",
               zh="dpo_loss 必须对策略的对数概率可微"))
    expect(bool((pc.grad < 0).all()),
           say(en=f"dLoss/d(policy_chosen) = {pc.grad.tolist()}; it must be negative, so that gradient descent RAISES "
                  "the chosen response's log-prob. Is the margin chosen − rejected?",
               zh=f"dLoss/d(policy_chosen) = {pc.grad.tolist()}；它必须为负，这样梯度下降才会提高 chosen 回复的对数"
                  "概率。margin 是 chosen − rejected 吗？"))
    expect(bool((pr.grad > 0).all()),
           say(en=f"dLoss/d(policy_rejected) = {pr.grad.tolist()}; it must be positive, so that gradient descent LOWERS "
                  "the rejected response's log-prob. Is the margin chosen − rejected?",
               zh=f"dLoss/d(policy_rejected) = {pr.grad.tolist()}；它必须为正，这样梯度下降才会降低 rejected 回复的"
                  "对数概率。margin 是 chosen − rejected 吗？"))
    # Closed form: dL/dπ_c = −β σ(−z) / B with z = β[(π_c − r_c) − (π_r − r_r)].
    z = 0.5 * ((pc.detach() - rc) - (pr.detach() - rr)).double()
    want = (-0.5 * torch.sigmoid(-z) / 5).float()
    expect_close(pc.grad, want, "dLoss/d(policy_chosen)", atol=1e-6, rtol=1e-4,
                 hint=say(en="dL/dπ_c = −β σ(−z) / B: the gradient is largest for pairs the policy still gets wrong.",
                          zh="dL/dπ_c = −β σ(−z) / B：策略仍然判错的样本对梯度最大。"))
    expect_close(pr.grad, -want, "dLoss/d(policy_rejected)", atol=1e-6, rtol=1e-4, hint=HINT)


@given(st.integers(1, 5), st.sampled_from([0.05, 0.1, 1.0, 3.0]), st.integers(0, 2**16))
def test_property_any_batch(impl, B, beta, seed):
    pc, pr, rc, rr = log_probs(B, seed)
    expect_scalar(impl.dpo_loss(pc, pr, rc, rr, beta=beta), oracle(pc, pr, rc, rr, beta),
                  f"dpo_loss(B={B}, beta={beta})", atol=1e-5, rtol=1e-5, hint=HINT,
                  likely=likely_dpo_mistakes(pc, pr, rc, rr, beta))
