"""lora-linear: a frozen nn.Linear plus a trainable (α/r)·B A update; checked against the formula in float64."""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="y = base(x) + (alpha / r) * x @ lora_A.T @ lora_B.T, with lora_A (r, in) and lora_B (out, r).",
           zh="y = base(x) + (alpha / r) * x @ lora_A.T @ lora_B.T，其中 lora_A 形状为 (r, in)，lora_B 形状为 (out, r)。")


def scale_mistakes(x, W, b, A, B, alpha, r, merged=False):
    """What a wrong scale of the update gives (the output, or with merged=True the merged weight), with causes."""
    def result(scale):
        if merged:
            return (W.double() + scale * B.double() @ A.double()).float()
        return formula(x, W, b, A, B, scale * r, r).float()  # formula's scale is alpha / r
    term = "lora_B @ lora_A" if merged else "x @ A.T @ B.T"
    return ((result(1.0), say(en=f"the update has no alpha / r factor; multiply {term} by alpha / r.",
                              zh=f"更新量缺少 alpha / r 因子；应把 {term} 乘以 alpha / r。")),
            (result(r / alpha), say(en="the update is scaled by r / alpha; the scale is alpha / r.",
                                    zh="更新量乘的是 r / alpha；缩放因子应是 alpha / r。")))


def make(impl, d_in, d_out, r, alpha, seed, bias=True):
    torch.manual_seed(seed)
    base = nn.Linear(d_in, d_out, bias=bias)
    with torch.no_grad():
        base.weight.copy_(torch.randn(d_out, d_in))
        if bias:
            base.bias.copy_(torch.randn(d_out))
    original = copy.deepcopy(base)
    return impl.LoRALinear(base, r, alpha), original


def set_factors(m, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        m.lora_A.copy_(torch.randn(m.lora_A.shape, generator=g))
        m.lora_B.copy_(torch.randn(m.lora_B.shape, generator=g))


def formula(x, W, b, A, B, alpha, r):
    """base(x) + (α/r) x Aᵀ Bᵀ in float64."""
    x, W, A, B = x.double(), W.double(), A.double(), B.double()
    y = x @ W.T + (alpha / r) * (x @ A.T @ B.T)
    return y + b.double() if b is not None else y


def test_parameters_and_equal_to_base_at_init(impl):
    m, base = make(impl, d_in=6, d_out=4, r=2, alpha=8.0, seed=0)
    expect(isinstance(m, nn.Module), say(en="LoRALinear must be an nn.Module", zh="LoRALinear 必须是 nn.Module"))
    for name, shape in (("lora_A", (2, 6)), ("lora_B", (4, 2))):
        p = getattr(m, name, None)
        expect(isinstance(p, nn.Parameter), say(en=f"LoRALinear(base, r=2, alpha=8) needs an nn.Parameter `{name}`",
                                                zh=f"LoRALinear(base, r=2, alpha=8) 需要一个 nn.Parameter `{name}`"))
        expect_tensor(p.data, say(en=f"{name} for in_features=6, out_features=4, r=2",
                                  zh=f"in_features=6、out_features=4、r=2 时的 {name}"), shape=shape, dtype=torch.float32)
    expect(bool((m.lora_B == 0).all()), say(en="lora_B must start at zero, so the wrapped layer initially equals the base.",
                                            zh="lora_B 必须初始化为 0，这样包装后的层一开始与基础层完全相同。"))
    expect(bool((m.lora_A != 0).any()),
           say(en="lora_A must start random (not zero): with A = B = 0 no gradient ever reaches B or A, and the adapter "
                  "never trains.",
               zh="lora_A 必须随机初始化（不能是 0）：A = B = 0 时 B 和 A 都得不到梯度，适配器永远训练不动。"))
    x = torch.randn(5, 6)
    with torch.no_grad():
        want = base(x)
    expect_close(m(x), want, say(en="LoRALinear(base, r=2, alpha=8)(x) at initialization vs base(x)",
                                 zh="初始化时 LoRALinear(base, r=2, alpha=8)(x) 与 base(x) 的比较"), atol=1e-5,
                 hint=say(en="At init B = 0, so the output must equal the base layer's.",
                          zh="初始化时 B = 0，所以输出必须等于基础层的输出。"))


def test_formula_with_random_factors(impl):
    for d_in, d_out, r, alpha, shape in ((6, 4, 2, 8.0, (5, 6)), (3, 7, 3, 1.0, (2, 4, 3)), (5, 5, 1, 16.0, (3, 5))):
        m, base = make(impl, d_in, d_out, r, alpha, seed=r)
        set_factors(m, seed=10 + r)
        x = torch.randn(shape)
        got = m(x)
        want = formula(x, base.weight, base.bias, m.lora_A.detach(), m.lora_B.detach(), alpha, r).float()
        expect_tensor(got, f"LoRALinear(Linear({d_in}, {d_out}), r={r}, alpha={alpha})(x of shape {shape})",
                      shape=(*shape[:-1], d_out), dtype=torch.float32)
        expect_close(got, want, say(en=f"LoRALinear(Linear({d_in}, {d_out}), r={r}, alpha={alpha}) with random A, B",
                                    zh=f"随机 A、B 下的 LoRALinear(Linear({d_in}, {d_out}), r={r}, alpha={alpha})"),
                     atol=1e-4, rtol=1e-4, hint=HINT,
                     likely=scale_mistakes(x, base.weight, base.bias, m.lora_A.detach(), m.lora_B.detach(), alpha, r))


def test_only_A_and_B_train(impl):
    m, base = make(impl, d_in=5, d_out=3, r=2, alpha=4.0, seed=3)
    trainable = [p for p in m.parameters() if p.requires_grad]
    found = [n for n, p in m.named_parameters() if p.requires_grad]
    expect(len(trainable) == 2 and {id(p) for p in trainable} == {id(m.lora_A), id(m.lora_B)},
           say(en=f"the trainable parameters (requires_grad=True) must be exactly lora_A and lora_B; found {found} — "
                  "freeze the base layer's weight and bias.",
               zh=f"可训练参数（requires_grad=True）必须恰好是 lora_A 和 lora_B；现在是 {found}——"
                  "要冻结基础层的 weight 和 bias。"))
    g = torch.Generator().manual_seed(4)
    x, target = torch.randn(16, 5, generator=g), torch.randn(16, 3, generator=g)
    loss = F.mse_loss(m(x), target)
    loss.backward()
    expect(m.lora_B.grad is not None and bool((m.lora_B.grad != 0).any()),
           say(en="after one backward pass at initialization lora_B has no (or a zero) gradient; B's gradient is "
                  "(alpha/r)·(dL/dy)ᵀ (x Aᵀ), which is non-zero only if A starts random.",
               zh="初始化后做一次反向传播，lora_B 没有梯度（或梯度为 0）；B 的梯度是 (alpha/r)·(dL/dy)ᵀ (x Aᵀ)，"
                  "只有 A 随机初始化时才不为 0。"))
    for _ in range(5):  # plain SGD, written out
        for p in trainable:
            p.grad = None
        F.mse_loss(m(x), target).backward()
        with torch.no_grad():
            for p in trainable:
                p -= 0.1 * p.grad
    with torch.no_grad():
        moved = (m(x) - base(x)).abs().max().item()
        want = formula(x, base.weight, base.bias, m.lora_A, m.lora_B, 4.0, 2).float()
        wrong_scale = scale_mistakes(x, base.weight, base.bias, m.lora_A, m.lora_B, 4.0, 2)
    expect(moved > 1e-3, say(en="five SGD steps left the output equal to the base layer's; lora_A and lora_B must train.",
                             zh="做了五步 SGD，输出仍与基础层相同；lora_A 和 lora_B 必须能被训练。"))
    expect_close(m(x), want, say(en="output after training (the base weights unchanged, the new A and B)",
                                 zh="训练之后的输出（基础层权重不变，A、B 已更新）"), atol=1e-4,
                 hint=say(en="Only A and B may change in training: the base weight must be frozen (requires_grad=False), "
                             "and the output stays base(x) + (alpha / r)·x Aᵀ Bᵀ.",
                          zh="训练时只有 A 和 B 可以变：基础层权重必须冻结（requires_grad=False），输出仍是 "
                             "base(x) + (alpha / r)·x Aᵀ Bᵀ。"), likely=wrong_scale)


def test_gradients_of_the_factors(impl):
    m, base = make(impl, d_in=4, d_out=3, r=2, alpha=3.0, seed=5)
    set_factors(m, seed=6)
    x = torch.randn(6, 4)
    (m(x) ** 2).sum().backward()
    A = m.lora_A.detach().double().requires_grad_()
    B = m.lora_B.detach().double().requires_grad_()
    (formula(x, base.weight, base.bias, A, B, 3.0, 2) ** 2).sum().backward()
    grad_hint = say(en="The gradients follow from the forward pass: if they are off, check that the update is "
                       "(alpha / r)·x @ lora_A.T @ lora_B.T, computed from the parameters themselves (no .detach(), no "
                       "copies).",
                    zh="梯度由前向计算决定：如果梯度不对，检查更新量是否为 (alpha / r)·x @ lora_A.T @ lora_B.T，"
                       "并且直接由参数本身算出（不要 .detach()，不要拷贝）。")
    wrong = []  # the gradients a wrong scale gives, with its cause
    for (_, cause), alpha in zip(scale_mistakes(x, base.weight, base.bias, A, B, 3.0, 2), (2.0, 4.0 / 3.0)):
        A2, B2 = A.detach().clone().requires_grad_(), B.detach().clone().requires_grad_()
        (formula(x, base.weight, base.bias, A2, B2, alpha, 2) ** 2).sum().backward()
        wrong.append((A2.grad.float(), B2.grad.float(), cause))
    expect_close(m.lora_A.grad, A.grad.float(), say(en="gradient w.r.t. lora_A", zh="对 lora_A 的梯度"), atol=1e-3,
                 rtol=1e-4, hint=grad_hint, likely=tuple((ga, c) for ga, _, c in wrong))
    expect_close(m.lora_B.grad, B.grad.float(), say(en="gradient w.r.t. lora_B", zh="对 lora_B 的梯度"), atol=1e-3,
                 rtol=1e-4, hint=grad_hint, likely=tuple((gb, c) for _, gb, c in wrong))


def test_merged_weight(impl):
    for bias in (True, False):
        m, base = make(impl, d_in=5, d_out=4, r=3, alpha=6.0, seed=7, bias=bias)
        set_factors(m, seed=8)
        merged = m.merged_weight()
        want = (base.weight.double() + 2.0 * m.lora_B.detach().double() @ m.lora_A.detach().double()).float()
        expect_close(merged, want, f"merged_weight() (r=3, alpha=6, bias={bias})", atol=1e-4, rtol=1e-4,
                     hint=say(en="merged = W + (alpha / r) * lora_B @ lora_A, shape (out, in).",
                              zh="merged = W + (alpha / r) * lora_B @ lora_A，形状为 (out, in)。"),
                     likely=scale_mistakes(None, base.weight, None, m.lora_A.detach(), m.lora_B.detach(), 6.0, 3,
                                           merged=True))
        x = torch.randn(3, 5)
        expect_close(F.linear(x, merged.detach(), base.bias), m(x).detach(),
                     say(en=f"F.linear(x, merged_weight(), base.bias) vs forward(x) (bias={bias})",
                         zh=f"F.linear(x, merged_weight(), base.bias) 与 forward(x) 的比较（bias={bias}）"), atol=1e-4,
                     hint=say(en="The merged weight must give the same output as the adapter: use the same alpha / r "
                                 "in both.",
                              zh="合并后的权重必须给出与适配器相同的输出：两处要用同一个 alpha / r。"))
