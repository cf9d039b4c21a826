"""gan-generator-loss: non-saturating −mean log σ(ℓ), or minimax mean log(1 − σ(ℓ)), on logits."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_scalar, say, usual_cause

HINT = say(en="non-saturating: −mean log σ(ℓ) = mean softplus(−ℓ) (BCE of the fakes against label 1); "
              "minimax: mean log(1 − σ(ℓ)) = −mean softplus(ℓ). G minimizes either one.",
           zh="非饱和形式：−mean log σ(ℓ) = mean softplus(−ℓ)（把假样本标成 1 的 BCE）；"
              "极小极大形式：mean log(1 − σ(ℓ)) = −mean softplus(ℓ)。生成器对两者都是最小化。")

DISCRIMINATOR_LOSS = say(en="the discriminator's loss on the fakes, −log(1 − D(G(z))) = softplus(ℓ); minimizing it makes "
                            "the fakes look MORE fake. The generator's default loss is −log D(G(z)) = softplus(−ℓ).",
                         zh="用了判别器在假样本上的损失 −log(1 − D(G(z))) = softplus(ℓ)；最小化它会让假样本显得更假。"
                            "生成器的默认损失是 −log D(G(z)) = softplus(−ℓ)。")
SWAPPED = say(en="the flag read the wrong way round: non_saturating=True (the default) is −mean log σ(ℓ) = mean "
                 "softplus(−ℓ), non_saturating=False is mean log(1 − σ(ℓ)) = −mean softplus(ℓ).",
              zh="把开关读反了：non_saturating=True（默认）是 −mean log σ(ℓ) = mean softplus(−ℓ)，"
                 "non_saturating=False 才是 mean log(1 − σ(ℓ)) = −mean softplus(ℓ)。")
MISSING_MINUS = say(en="the non-saturating loss without its minus sign (mean log σ(ℓ)); minimizing that makes the fakes "
                       "look less real. Return −mean log σ(ℓ) = mean softplus(−ℓ).",
                    zh="非饱和损失漏了负号（写成了 mean log σ(ℓ)）；最小化它会让假样本更不像真的。"
                       "应返回 −mean log σ(ℓ) = mean softplus(−ℓ)。")
LOG_OF_SIGMOID = say(en="σ(ℓ) rounds to exactly 0 or 1 for |ℓ| ≳ 17, so log(σ(ℓ)) or log(1 − σ(ℓ)) gives −inf; "
                        "use softplus / logsigmoid / BCE-with-logits on the logits.",
                     zh="|ℓ| ≳ 17 时 σ(ℓ) 会舍入成正好 0 或 1，log(σ(ℓ)) 或 log(1 − σ(ℓ)) 就成了 −inf；"
                        "要在 logits 上用 softplus / logsigmoid / BCE-with-logits 计算。")


def oracle(fake_logits, non_saturating):
    f = fake_logits.double()
    if non_saturating:
        return F.binary_cross_entropy_with_logits(f, torch.ones_like(f)).float()
    return (-F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))).float()


def likely_loss_mistakes(fake_logits, non_saturating):
    """What the usual mistakes give on these logits, each with its cause."""
    f = fake_logits.double()
    pairs = [(F.softplus(f).mean().float(), DISCRIMINATOR_LOSS),
             (oracle(fake_logits, not non_saturating), SWAPPED)]
    if non_saturating:
        pairs.append(((-F.softplus(-f).mean()).float(), MISSING_MINUS))
    return tuple(pairs)


def call(impl, logits, non_saturating):
    return impl.generator_loss(logits, non_saturating=non_saturating)


def test_non_saturating_is_the_default(impl):
    g = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(10, generator=g)
    expect_scalar(impl.generator_loss(logits), oracle(logits, True),
                  say(en="generator_loss(fake_logits) (default)", zh="generator_loss(fake_logits)（默认参数）"),
                  atol=1e-5, rtol=1e-5,
                  hint=say(en="The default must be the non-saturating loss. " + HINT.en,
                           zh="默认必须是非饱和损失。" + HINT.zh),
                  likely=likely_loss_mistakes(logits, True))


def test_both_forms_match_the_oracle(impl):
    g = torch.Generator().manual_seed(1)
    logits = 4 * torch.randn(7, 1, generator=g)
    for ns in (True, False):
        expect_scalar(call(impl, logits, ns), oracle(logits, ns),
                      f"generator_loss(fake_logits (7, 1), non_saturating={ns})", atol=1e-5, rtol=1e-5, hint=HINT,
                      likely=likely_loss_mistakes(logits, ns))


def test_finite_and_correct_at_huge_logits(impl):
    logits = torch.tensor([-1e4, 1e4, 0.0, -40.0])
    for ns in (True, False):
        expect_scalar(call(impl, logits, ns), oracle(logits, ns),
                      f"generator_loss([-1e4, 1e4, 0, -40], non_saturating={ns})", atol=1e-2, rtol=1e-5,
                      hint=LOG_OF_SIGMOID, likely=likely_loss_mistakes(logits, ns))


def test_minimax_gradient_vanishes_where_non_saturating_does_not(impl):
    # D confidently rejects the fakes: ℓ = −10, D(G(z)) = σ(−10) ≈ 4.5e-5. This is early training.
    logits = torch.full((4,), -10.0)
    grads = {}
    for ns in (True, False):
        x = logits.clone().requires_grad_(True)
        call(impl, x, ns).backward()
        expect(x.grad is not None,
               say(en="generator_loss must be differentiable w.r.t. the logits (no .detach() or .item())",
                   zh="generator_loss 必须对 logits 可导（不要用 .detach() 或 .item()）"))
        grads[ns] = x.grad
    s = torch.sigmoid(logits)
    want_ns, want_mm = -(1 - s) / 4, -s / 4  # d/dℓ of mean softplus(−ℓ) and of −mean softplus(ℓ)
    # The gradients the usual mistakes give: softplus(ℓ) → s/4, mean log σ(ℓ) → (1 − s)/4, swapped forms.
    cause_ns = usual_cause(grads[True], ((s / 4, DISCRIMINATOR_LOSS), (want_mm, SWAPPED), ((1 - s) / 4, MISSING_MINUS)),
                           HINT, atol=1e-6)
    expect(bool(torch.allclose(grads[True], want_ns, atol=1e-6)),
           say(en=f"non-saturating loss at ℓ = −10: ∂L/∂ℓ = {grads[True].tolist()}, expected {want_ns.tolist()} "
                  f"(≈ −1/B: a strong push to raise D's score of the fakes). {cause_ns.en}",
               zh=f"非饱和损失在 ℓ = −10 处：∂L/∂ℓ = {grads[True].tolist()}，应为 {want_ns.tolist()}"
                  f"（≈ −1/B：强力推动判别器提高对假样本的打分）。{cause_ns.zh}"))
    cause_mm = usual_cause(grads[False], ((s / 4, DISCRIMINATOR_LOSS), (want_ns, SWAPPED)), HINT, atol=1e-7)
    expect(bool(torch.allclose(grads[False], want_mm, atol=1e-7)),
           say(en=f"minimax loss at ℓ = −10: ∂L/∂ℓ = {grads[False].tolist()}, expected {want_mm.tolist()} "
                  f"(≈ −σ(ℓ)/B ≈ 0: the gradient vanishes when D wins). {cause_mm.en}",
               zh=f"极小极大损失在 ℓ = −10 处：∂L/∂ℓ = {grads[False].tolist()}，应为 {want_mm.tolist()}"
                  f"（≈ −σ(ℓ)/B ≈ 0：判别器占上风时梯度消失）。{cause_mm.zh}"))
    expect(bool((grads[True] < 0).all()) and bool((grads[False] < 0).all()),
           say(en="both generator losses must decrease as D's logit for the fakes rises (negative gradient); "
                  "a positive gradient means G is trained to make its samples look MORE fake.",
               zh="判别器对假样本的 logit 升高时，两种生成器损失都必须下降（梯度为负）；"
                  "梯度为正意味着生成器被训练得让样本显得更假。"))


@given(st.lists(st.floats(-30, 30), min_size=1, max_size=5), st.booleans())
def test_property_any_logits(impl, logits, ns):
    x = torch.tensor(logits)
    expect_scalar(call(impl, x, ns), oracle(x, ns), f"generator_loss({logits}, non_saturating={ns})",
                  atol=1e-5, rtol=1e-5, hint=say(en=f"{HINT.en} {LOG_OF_SIGMOID.en}", zh=f"{HINT.zh}{LOG_OF_SIGMOID.zh}"),
                  likely=likely_loss_mistakes(x, ns))
