"""swiglu-ffn: SwiGLU(d_model, d_hidden)(x) = w_down(silu(w_gate(x)) * w_up(x)), no biases; oracle from its own weights."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

FORMULA = "forward(x) = w_down(silu(w_gate(x)) * w_up(x)), silu(z) = z·sigmoid(z), on the GATE branch only"


def make(impl, d_model, d_hidden, seed):
    """The module under test, its linears checked, with random (not default-init) weights of a useful size."""
    torch.manual_seed(seed)
    ffn = impl.SwiGLU(d_model, d_hidden)
    expect(isinstance(ffn, nn.Module), f"SwiGLU({d_model}, {d_hidden}) must be an nn.Module")
    for name, (fan_in, fan_out) in (("w_gate", (d_model, d_hidden)), ("w_up", (d_model, d_hidden)),
                                    ("w_down", (d_hidden, d_model))):
        layer = getattr(ffn, name, None)
        expect(isinstance(layer, nn.Linear) and tuple(layer.weight.shape) == (fan_out, fan_in),
               f"SwiGLU({d_model}, {d_hidden}) needs a submodule `{name}` = nn.Linear({fan_in}, {fan_out}, "
               f"bias=False); found {layer!r}")
        expect(layer.bias is None,
               f"SwiGLU({d_model}, {d_hidden}).{name} has a bias; LLaMA-style SwiGLU layers have none "
               f"(nn.Linear(..., bias=False)).")
    g = torch.Generator().manual_seed(100 + seed)
    with torch.no_grad():
        for layer in (ffn.w_gate, ffn.w_up, ffn.w_down):
            layer.weight.copy_(1.5 * torch.randn(layer.weight.shape, generator=g) / layer.in_features ** 0.5)
    return ffn


def oracle(ffn, x):
    """The SwiGLU formula in float64 from the module's own weights."""
    xd = x.double()
    gate = xd @ ffn.w_gate.weight.detach().double().T
    up = xd @ ffn.w_up.weight.detach().double().T
    return ((gate * torch.sigmoid(gate) * up) @ ffn.w_down.weight.detach().double().T).float()


def test_submodules_and_parameter_count(impl):
    ffn = make(impl, 6, 16, seed=0)
    n_params = sum(p.numel() for p in ffn.parameters())
    expect(n_params == 3 * 6 * 16,
           f"SwiGLU(6, 16) has {n_params} parameters; expected exactly 3 · d_model · d_hidden = {3 * 6 * 16} "
           "(three bias-free matrices: w_gate, w_up, w_down, nothing else).")


def test_matches_formula(impl):
    ffn = make(impl, 8, 12, seed=1)
    x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(1))
    got = ffn(x)
    expect_tensor(got, "SwiGLU(8, 12)(x of shape (2, 5, 8))", shape=(2, 5, 8), dtype=torch.float32)
    expect_close(got, oracle(ffn, x), "SwiGLU(8, 12)(x) vs the formula from its own weights", atol=1e-5,
                 rtol=1e-4, hint=diagnose(ffn, x, got) + FORMULA + ".")


def diagnose(ffn, x, got):
    """Name the usual mistake when the output matches one of them (built from the module's own weights)."""
    xd = x.double()
    g = xd @ ffn.w_gate.weight.detach().double().T
    u = xd @ ffn.w_up.weight.detach().double().T
    down = ffn.w_down.weight.detach().double().T
    candidates = {
        "the branches are swapped: silu(w_up(x)) * w_gate(x)": (u * torch.sigmoid(u) * g) @ down,
        "the gate uses GELU (that is GEGLU)": (F.gelu(g) * u) @ down,
        "the gate uses a plain sigmoid (that is the original GLU)": (torch.sigmoid(g) * u) @ down,
        "SiLU is applied after the product: silu(w_gate(x) * w_up(x))": F.silu(g * u) @ down,
    }
    for name, val in candidates.items():
        if torch.allclose(got.double(), val, atol=1e-4, rtol=1e-3):
            return f"Your output matches the formula with {name}. "
    return ""


def test_gate_and_up_not_swapped(impl):
    # w_gate and w_up have the same shape; swapping them is invisible to the shapes, visible to the values.
    ffn = make(impl, 5, 7, seed=2)
    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(2))
    got = ffn(x)
    swapped = torch.allclose(got, oracle_with(ffn, x, gate=ffn.w_up, up=ffn.w_gate), atol=1e-5)
    expect_close(got, oracle(ffn, x), "SwiGLU(5, 7)(x (6, 5))", atol=1e-5, rtol=1e-4,
                 hint=("Your output equals silu(w_up(x)) * w_gate(x): the two branches are swapped. "
                       if swapped else "") + FORMULA + ".")


def oracle_with(ffn, x, gate, up, act=None):
    act = act or (lambda z: z * torch.sigmoid(z))
    xd = x.double()
    h = act(xd @ gate.weight.detach().double().T) * (xd @ up.weight.detach().double().T)
    return (h @ ffn.w_down.weight.detach().double().T).float()


def test_activation_is_silu(impl):
    # With identity matrices the layer computes act(x) * x elementwise, which names the activation.
    ffn = impl.SwiGLU(4, 4)
    with torch.no_grad():
        for layer in (ffn.w_gate, ffn.w_up, ffn.w_down):
            layer.weight.copy_(torch.eye(4))
    x = torch.tensor([[-3.0, -1.0, 0.5, 2.0], [1.0, -0.5, 3.0, -2.0]])
    got = ffn(x)
    xd = x.double()
    want = (xd * torch.sigmoid(xd) * xd).float()
    candidates = {"GELU": F.gelu(xd) * xd, "ReLU": F.relu(xd) * xd, "sigmoid (plain GLU)": torch.sigmoid(xd) * xd,
                  "no activation (bilinear)": xd * xd}
    used = next((name for name, val in candidates.items() if torch.allclose(got.double(), val, atol=1e-4)), None)
    expect_close(got, want, "SwiGLU(4, 4) with w_gate = w_up = w_down = identity, i.e. silu(x) * x", atol=1e-5,
                 rtol=1e-4, hint=(f"Your output equals act(x) * x with act = {used}; " if used else "")
                 + "SwiGLU uses SiLU (swish), silu(z) = z·sigmoid(z) = F.silu(z).")


def test_batch_dims(impl):
    ffn = make(impl, 3, 5, seed=3)
    g = torch.Generator().manual_seed(3)
    for shape in ((3,), (4, 3), (2, 2, 2, 3)):
        x = torch.randn(shape, generator=g)
        got = ffn(x)
        expect_tensor(got, f"SwiGLU(3, 5)(x of shape {shape})", shape=shape, dtype=torch.float32)
        expect_close(got, oracle(ffn, x), f"SwiGLU(3, 5)(x of shape {shape})", atol=1e-5, rtol=1e-4,
                     hint="The layer acts on the last dim only; nn.Linear handles any leading dims.")


def test_gradients_reach_all_three_matrices(impl):
    ffn = make(impl, 4, 6, seed=4)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(4))
    ffn(x).pow(2).sum().backward()
    for name in ("w_gate", "w_up", "w_down"):
        grad = getattr(ffn, name).weight.grad
        expect(grad is not None and bool(grad.abs().sum() > 0),
               f"{name}.weight received no gradient — is {name} used in forward (and not detached)?")


def test_deterministic_and_input_unchanged(impl):
    ffn = make(impl, 4, 6, seed=5)
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(5))
    before = x.clone()
    expect_deterministic(ffn, x, what="SwiGLU(4, 6)(x)")
    ffn(x)
    expect(torch.equal(before, x), "SwiGLU.forward modified its input x in place; use out-of-place ops.")


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**16))
def test_property_any_size(impl, d_model, d_hidden, n, seed):
    ffn = make(impl, d_model, d_hidden, seed=seed % 1000)
    x = torch.randn(n, d_model, generator=torch.Generator().manual_seed(seed))
    expect_close(ffn(x), oracle(ffn, x), f"SwiGLU({d_model}, {d_hidden}) on x of shape ({n}, {d_model})",
                 atol=1e-5, rtol=1e-4, hint=FORMULA + ".")
