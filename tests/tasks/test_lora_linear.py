"""lora-linear: a frozen nn.Linear plus a trainable (α/r)·B A update; checked against the formula in float64."""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = "y = base(x) + (alpha / r) * x @ lora_A.T @ lora_B.T, with lora_A (r, in) and lora_B (out, r)."


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
    expect(isinstance(m, nn.Module), "LoRALinear must be an nn.Module")
    for name, shape in (("lora_A", (2, 6)), ("lora_B", (4, 2))):
        p = getattr(m, name, None)
        expect(isinstance(p, nn.Parameter), f"LoRALinear(base, r=2, alpha=8) needs an nn.Parameter `{name}`")
        expect_tensor(p.data, f"{name} for in_features=6, out_features=4, r=2", shape=shape, dtype=torch.float32)
    expect(bool((m.lora_B == 0).all()), "lora_B must start at zero, so the wrapped layer initially equals the base.")
    expect(bool((m.lora_A != 0).any()), "lora_A must start random (not zero): with A = B = 0 no gradient ever reaches "
           "B or A, and the adapter never trains.")
    x = torch.randn(5, 6)
    with torch.no_grad():
        want = base(x)
    expect_close(m(x), want, "LoRALinear(base, r=2, alpha=8)(x) at initialization vs base(x)", atol=1e-5,
                 hint="At init B = 0, so the output must equal the base layer's.")


def test_formula_with_random_factors(impl):
    for d_in, d_out, r, alpha, shape in ((6, 4, 2, 8.0, (5, 6)), (3, 7, 3, 1.0, (2, 4, 3)), (5, 5, 1, 16.0, (3, 5))):
        m, base = make(impl, d_in, d_out, r, alpha, seed=r)
        set_factors(m, seed=10 + r)
        x = torch.randn(shape)
        got = m(x)
        want = formula(x, base.weight, base.bias, m.lora_A.detach(), m.lora_B.detach(), alpha, r).float()
        expect_tensor(got, f"LoRALinear(Linear({d_in}, {d_out}), r={r}, alpha={alpha})(x of shape {shape})",
                      shape=(*shape[:-1], d_out), dtype=torch.float32)
        expect_close(got, want, f"LoRALinear(Linear({d_in}, {d_out}), r={r}, alpha={alpha}) with random A, B",
                     atol=1e-4, rtol=1e-4, hint=HINT + " The scale is alpha / r.")


def test_only_A_and_B_train(impl):
    m, base = make(impl, d_in=5, d_out=3, r=2, alpha=4.0, seed=3)
    trainable = [p for p in m.parameters() if p.requires_grad]
    expect(len(trainable) == 2 and {id(p) for p in trainable} == {id(m.lora_A), id(m.lora_B)},
           f"the trainable parameters (requires_grad=True) must be exactly lora_A and lora_B; found "
           f"{[n for n, p in m.named_parameters() if p.requires_grad]} — freeze the base layer's weight and bias.")
    g = torch.Generator().manual_seed(4)
    x, target = torch.randn(16, 5, generator=g), torch.randn(16, 3, generator=g)
    loss = F.mse_loss(m(x), target)
    loss.backward()
    expect(m.lora_B.grad is not None and bool((m.lora_B.grad != 0).any()),
           "after one backward pass at initialization lora_B has no (or a zero) gradient; B's gradient is "
           "(alpha/r)·(dL/dy)ᵀ (x Aᵀ), which is non-zero only if A starts random.")
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
    expect(moved > 1e-3, "five SGD steps left the output equal to the base layer's; lora_A and lora_B must train.")
    expect_close(m(x), want, "output after training (the base weights unchanged, the new A and B)", atol=1e-4,
                 hint=HINT)


def test_gradients_of_the_factors(impl):
    m, base = make(impl, d_in=4, d_out=3, r=2, alpha=3.0, seed=5)
    set_factors(m, seed=6)
    x = torch.randn(6, 4)
    (m(x) ** 2).sum().backward()
    A = m.lora_A.detach().double().requires_grad_()
    B = m.lora_B.detach().double().requires_grad_()
    (formula(x, base.weight, base.bias, A, B, 3.0, 2) ** 2).sum().backward()
    expect_close(m.lora_A.grad, A.grad.float(), "gradient w.r.t. lora_A", atol=1e-3, rtol=1e-4, hint=HINT)
    expect_close(m.lora_B.grad, B.grad.float(), "gradient w.r.t. lora_B", atol=1e-3, rtol=1e-4, hint=HINT)


def test_merged_weight(impl):
    for bias in (True, False):
        m, base = make(impl, d_in=5, d_out=4, r=3, alpha=6.0, seed=7, bias=bias)
        set_factors(m, seed=8)
        merged = m.merged_weight()
        want = (base.weight.double() + 2.0 * m.lora_B.detach().double() @ m.lora_A.detach().double()).float()
        expect_close(merged, want, f"merged_weight() (r=3, alpha=6, bias={bias})", atol=1e-4, rtol=1e-4,
                     hint="merged = W + (alpha / r) * lora_B @ lora_A, shape (out, in).")
        x = torch.randn(3, 5)
        expect_close(F.linear(x, merged.detach(), base.bias), m(x).detach(),
                     f"F.linear(x, merged_weight(), base.bias) vs forward(x) (bias={bias})", atol=1e-4,
                     hint="The merged weight must give the same output as the adapter.")
