"""adamw: one AdamW update (decoupled weight decay, bias-corrected moments) against a closed form and torch.optim.AdamW."""
import torch
import torch.nn as nn

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="param·(1 − lr·wd) first; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; then "
              "param − lr·(m/(1 − β1^step)) / (√(v/(1 − β2^step)) + eps), with step the 1-based count of this update.",
           zh="先算 param·(1 − lr·wd)；m = β1·m + (1 − β1)·g；v = β2·v + (1 − β2)·g²；再算 "
              "param − lr·(m/(1 − β1^step)) / (√(v/(1 − β2^step)) + eps)，其中 step 是本次更新从 1 开始的序号。")

SETTINGS = {
    "defaults": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2),
    "lr=1e-2, betas=(0.8, 0.99), eps=1e-6, wd=0.1": dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    "large decay: lr=0.1, wd=0.5": dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.5),
    "tiny gradients ~1e-8, wd=0": dict(lr=1e-2, betas=(0.5, 0.9), eps=1e-8, weight_decay=0.0),
}
SHAPES = {"defaults": (4, 3), "lr=1e-2, betas=(0.8, 0.99), eps=1e-6, wd=0.1": (5,),
          "large decay: lr=0.1, wd=0.5": (6,), "tiny gradients ~1e-8, wd=0": (3, 2)}
SCALES = {"defaults": 1.0, "lr=1e-2, betas=(0.8, 0.99), eps=1e-6, wd=0.1": 3.0,
          "large decay: lr=0.1, wd=0.5": 0.1, "tiny gradients ~1e-8, wd=0": 1e-8}
STEPS = 5
NAMES_ZH = {"defaults": "默认设置", "lr=1e-2, betas=(0.8, 0.99), eps=1e-6, wd=0.1": "lr=1e-2, betas=(0.8, 0.99), eps=1e-6, wd=0.1",
            "large decay: lr=0.1, wd=0.5": "大衰减：lr=0.1, wd=0.5", "tiny gradients ~1e-8, wd=0": "极小梯度 ~1e-8, wd=0"}


def closed_form(p, g, m, v, t, lr, betas, eps, weight_decay):
    """Loshchilov & Hutter's AdamW (arXiv:1711.05101, Algorithm 2) in float64, in torch.optim.AdamW's form:
    η_t = lr and the decay scaled by lr, eps added to √v̂. test_closed_form_is_torch_optim_adamw checks it."""
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return p - lr * weight_decay * p - lr * m_hat / (v_hat.sqrt() + eps), m, v


def likely_param_mistakes(p, g, m, v, t, lr, betas, eps, weight_decay):
    """What the usual AdamW mistakes give for the new param from (p, g, m, v) at step t, each with its cause."""
    p, g, m, v = p.double(), g.double(), m.double(), v.double()
    b1, b2 = betas
    m1, v1 = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g ** 2
    m_hat, v_hat = m1 / (1 - b1 ** t), v1 / (1 - b2 ** t)
    step = lr * m_hat / (v_hat.sqrt() + eps)
    g2 = g + weight_decay * p
    m2, v2 = (b1 * m + (1 - b1) * g2) / (1 - b1 ** t), (b2 * v + (1 - b2) * g2 ** 2) / (1 - b2 ** t)
    return ((p - lr * m2 / (v2.sqrt() + eps), L2_CAUSE),
            (p - weight_decay * p - step,
             say(en="the decay is not multiplied by lr (param·(1 − wd)); decay by param·(1 − lr·wd).",
                 zh="权重衰减没有乘 lr（写成了 param·(1 − wd)）；应衰减为 param·(1 − lr·wd)。")),
            (p - lr * weight_decay * p - lr * m1 / (v1.sqrt() + eps),
             say(en="no bias correction; divide m by 1 − β1^step and v by 1 − β2^step before the update.",
                 zh="没有做偏差修正；更新前要把 m 除以 1 − β1^step、把 v 除以 1 − β2^step。")),
            (p - lr * weight_decay * p - lr * m_hat / (v_hat + eps).sqrt(),
             say(en="eps inside the square root (√(v̂ + eps)); add it after: √v̂ + eps.",
                 zh="把 eps 放进了根号里（√(v̂ + eps)）；应在开方之后加：√v̂ + eps。")),
            (p - lr * weight_decay * p - lr * m_hat * (1 - b2 ** t) ** 0.5 / (v1.sqrt() + eps),
             say(en="eps added before the bias correction ((√v + eps)/√(1 − β2^step)); add it to √v̂ = √(v/(1 − β2^step)).",
                 zh="eps 加在了偏差修正之前（(√v + eps)/√(1 − β2^step)）；应加在 √v̂ = √(v/(1 − β2^step)) 上。")))


L2_CAUSE = say(en="L2 regularization: wd·param added to the gradient before the moments; AdamW keeps m and v on the raw "
                  "gradient and decays the weights directly, param·(1 − lr·wd).",
               zh="这是 L2 正则：在算动量之前把 wd·param 加到了梯度上；AdamW 的 m、v 只用原始梯度，权重衰减直接作用在"
                  "参数上：param·(1 − lr·wd)。")


def inputs(name):
    g = torch.Generator().manual_seed(sorted(SETTINGS).index(name))
    p0 = 2 * torch.randn(SHAPES[name], generator=g)
    grads = [SCALES[name] * torch.randn(SHAPES[name], generator=g) for _ in range(STEPS)]
    if name.startswith("large decay"):  # |g| ≥ 0.05, so √v̂ ≫ eps and only the decay matters here
        grads = [gr.sign() * (gr.abs() + 0.05) for gr in grads]
    return p0, grads


def trajectory(name):
    """The initial param, the gradients, and the closed form's (param, m, v) after each step (float64, cast)."""
    p0, grads = inputs(name)
    p, m, v = p0.double(), torch.zeros(p0.shape, dtype=torch.float64), torch.zeros(p0.shape, dtype=torch.float64)
    states = []
    for k in range(STEPS):
        p, m, v = closed_form(p, grads[k].double(), m, v, k + 1, **SETTINGS[name])
        states.append((p.float(), m.float(), v.float()))
    return p0, grads, states


def call(impl, param, grad, m, v, step, what, **kw):
    result = impl.adamw_step(param, grad, m, v, step, **kw)
    expect(isinstance(result, tuple) and len(result) == 3,
           say(en=f"{what.en} should return a tuple (param, exp_avg, exp_avg_sq), got {type(result).__name__}",
               zh=f"{what.zh} 应返回元组 (param, exp_avg, exp_avg_sq)，实际是 {type(result).__name__}"))
    for name, t in zip(("param", "exp_avg", "exp_avg_sq"), result):
        expect_tensor(t, say(en=f"{what.en}: returned {name}", zh=f"{what.zh}：返回的 {name}"), shape=param.shape,
                      dtype=torch.float32)
    return result


def run(impl, name, p0, grads, states, hint):
    param, m, v = p0.clone(), torch.zeros_like(p0), torch.zeros_like(p0)
    for step in range(1, STEPS + 1):
        what = say(en=f"adamw_step at step {step} ({name})", zh=f"第 {step} 步的 adamw_step（{NAMES_ZH[name]}）")
        before = (param, m, v)
        param, m, v = call(impl, param, grads[step - 1], m, v, step, what, **SETTINGS[name])
        want_p, want_m, want_v = states[step - 1]
        b1, b2 = SETTINGS[name]["betas"]
        g, wd = grads[step - 1].double(), SETTINGS[name]["weight_decay"]
        l2_m = b1 * before[1].double() + (1 - b1) * (g + wd * before[0].double())
        l2_v = b2 * before[2].double() + (1 - b2) * (g + wd * before[0].double()) ** 2
        expect_close(m, want_m, say(en=f"{what.en}: exp_avg", zh=f"{what.zh}：exp_avg"), atol=1e-7, rtol=1e-5,
                     hint=say(en="m = β1·m + (1 − β1)·grad, from the raw gradient (the weight decay never enters m).",
                              zh="m = β1·m + (1 − β1)·grad，用原始梯度（权重衰减不进入 m）。"),
                     likely=((l2_m, L2_CAUSE),))
        expect_close(v, want_v, say(en=f"{what.en}: exp_avg_sq", zh=f"{what.zh}：exp_avg_sq"), atol=1e-12, rtol=1e-5,
                     hint=say(en="v = β2·v + (1 − β2)·grad², from the raw gradient.",
                              zh="v = β2·v + (1 − β2)·grad²，用原始梯度。"),
                     likely=((l2_v, L2_CAUSE),))
        expect_close(param, want_p, say(en=f"{what.en}: param", zh=f"{what.zh}：param"), atol=2e-6, rtol=1e-5, hint=hint,
                     likely=likely_param_mistakes(*before[:1], grads[step - 1], *before[1:], step, **SETTINGS[name]))


def test_matches_adamw_over_several_steps(impl):
    for name in ("defaults", "lr=1e-2, betas=(0.8, 0.99), eps=1e-6, wd=0.1"):
        run(impl, name, *trajectory(name), hint=HINT)


def test_decay_is_decoupled_from_the_gradient(impl):
    # With wd = 0.5 and small gradients, L2 regularization (grad + wd·param fed to Adam) is far from AdamW.
    run(impl, "large decay: lr=0.1, wd=0.5", *trajectory("large decay: lr=0.1, wd=0.5"),
        hint=say(en="AdamW decays the weights directly, param·(1 − lr·wd), BEFORE the Adam step; adding wd·param to "
                    "the gradient (L2 regularization, Adam's weight_decay) lets Adam's normalization rescale the decay. "
                    "The decay is multiplied by lr too.",
                 zh="AdamW 在 Adam 更新之前直接衰减权重：param·(1 − lr·wd)；把 wd·param 加到梯度上（L2 正则，即 Adam 的 "
                    "weight_decay）会让衰减被 Adam 的归一化重新缩放。衰减也要乘以 lr。"))


def test_eps_is_added_after_the_bias_correction(impl):
    # Gradients ~1e-8 make √v̂ comparable to eps, so where eps goes shows.
    run(impl, "tiny gradients ~1e-8, wd=0", *trajectory("tiny gradients ~1e-8, wd=0"),
        hint=say(en="The denominator is √(v/(1 − β2^step)) + eps: eps is added after the bias correction and outside "
                    "the square root (not √(v̂ + eps), not (√v + eps)/√(1 − β2^step)).",
                 zh="分母是 √(v/(1 − β2^step)) + eps：eps 在偏差修正之后、根号之外加上（不是 √(v̂ + eps)，也不是 "
                    "(√v + eps)/√(1 − β2^step)）。"))


def test_first_step_moves_each_weight_by_about_lr(impl):
    # Step 1 from zero moments: m̂ = g and v̂ = g², so the update is lr·g/(|g| + eps) ≈ lr·sign(g).
    g = torch.Generator().manual_seed(1)
    p0 = torch.randn(7, generator=g)
    grad = torch.randn(7, generator=g) * torch.logspace(-3, 3, 7)
    lr, wd = 0.01, 0.1
    param, m, v = call(impl, p0, grad, torch.zeros(7), torch.zeros(7), 1,
                       say(en="adamw_step(step=1, zero moments)", zh="adamw_step(step=1，动量为零)"),
                       lr=lr, weight_decay=wd)
    want = p0.double() * (1 - lr * wd) - lr * grad.double() / (grad.double().abs() + 1e-8)
    expect_close(param, want.float(), say(en="adamw_step at step 1 with gradients from 1e-3 to 1e3",
                                          zh="梯度从 1e-3 到 1e3 时第 1 步的 adamw_step"), atol=1e-6, rtol=1e-5,
                 hint=say(en="At step 1 the bias corrections divide m by 1 − β1 and v by 1 − β2, so m̂ = g and v̂ = g²: "
                             "every weight moves by about lr whatever the gradient's size. Without the correction the "
                             "first step is (1 − β1)/√(1 − β2) ≈ 3.2 times too large. step is 1-based: 1 − β^step, not "
                             "β^(step−1).",
                          zh="第 1 步的偏差修正把 m 除以 1 − β1、把 v 除以 1 − β2，所以 m̂ = g、v̂ = g²：无论梯度大小，"
                             "每个权重都移动约 lr。不做修正时第一步会大 (1 − β1)/√(1 − β2) ≈ 3.2 倍。step 从 1 开始："
                             "是 1 − β^step，不是 β^(step−1)。"),
                 likely=likely_param_mistakes(p0, grad, torch.zeros(7), torch.zeros(7), 1, lr=lr, betas=(0.9, 0.999),
                                              eps=1e-8, weight_decay=wd))


def test_inputs_are_not_modified(impl):
    g = torch.Generator().manual_seed(2)
    tensors = [torch.randn(3, 4, generator=g) for _ in range(3)] + [torch.rand(3, 4, generator=g)]
    before = [t.clone() for t in tensors]
    call(impl, *tensors, 3, say(en="adamw_step(param, grad, m, v, step=3)", zh="adamw_step(param, grad, m, v, step=3)"))
    for name, t, b in zip(("param", "grad", "exp_avg", "exp_avg_sq"), tensors, before):
        expect(torch.equal(t, b),
               say(en=f"adamw_step modified its input {name} in place; return new tensors "
                      "(param * (1 − lr·wd), beta1 * m + ..., not param.mul_ / m.lerp_ / v.addcmul_).",
                   zh=f"adamw_step 原地修改了输入 {name}；应返回新张量"
                      "（param * (1 − lr·wd)、beta1 * m + ...，不要用 param.mul_ / m.lerp_ / v.addcmul_）。"))


def test_matches_torch_optim_adamw(impl):
    # The one comparison with torch.optim.AdamW itself (creating it imports torch._dynamo, about a second): two
    # settings, 3 steps, in float64; it also confirms that closed_form above is PyTorch's AdamW.
    names = ("defaults", "large decay: lr=0.1, wd=0.5")
    data = {name: inputs(name) for name in names}
    params = {name: nn.Parameter(data[name][0].double().clone()) for name in names}
    opt = torch.optim.AdamW([dict(params=[params[name]], **SETTINGS[name]) for name in names])
    mine = {name: (data[name][0].clone(), torch.zeros(SHAPES[name]), torch.zeros(SHAPES[name])) for name in names}
    oracle = {name: (data[name][0].double(), torch.zeros(SHAPES[name], dtype=torch.float64),
                     torch.zeros(SHAPES[name], dtype=torch.float64)) for name in names}
    for k in range(3):
        for name in names:
            params[name].grad = data[name][1][k].double().clone()
        opt.step()
        for name in names:
            what = say(en=f"adamw_step at step {k + 1} ({name}) against torch.optim.AdamW",
                       zh=f"第 {k + 1} 步的 adamw_step（{NAMES_ZH[name]}）与 torch.optim.AdamW 的比较")
            before = mine[name]
            mine[name] = call(impl, *mine[name][:1], data[name][1][k], *mine[name][1:], k + 1, what,
                              **SETTINGS[name])
            oracle[name] = closed_form(*oracle[name][:1], data[name][1][k].double(), *oracle[name][1:], k + 1,
                                       **SETTINGS[name])
            torch_p = params[name].detach()
            expect(torch.allclose(oracle[name][0], torch_p, rtol=1e-12, atol=1e-12),
                   say(en=f"the test's closed-form AdamW disagrees with torch.optim.AdamW at step {k + 1} ({name}): "
                          "this PyTorch changed AdamW's update; please report it.",
                       zh=f"第 {k + 1} 步（{NAMES_ZH[name]}）测试里的 AdamW 闭式解与 torch.optim.AdamW 不一致："
                          "这个版本的 PyTorch 改变了 AdamW 的更新方式，请报告此问题。"))
            expect_close(mine[name][0], torch_p.float(), say(en=f"{what.en}: param", zh=f"{what.zh}：param"),
                         atol=2e-6, rtol=1e-5, hint=HINT,
                         likely=likely_param_mistakes(*before[:1], data[name][1][k], *before[1:], k + 1,
                                                      **SETTINGS[name]))
