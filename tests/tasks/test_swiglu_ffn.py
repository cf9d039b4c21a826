"""swiglu-ffn: SwiGLU(d_model, d_hidden)(x) = w_down(silu(w_gate(x)) * w_up(x)), no biases; oracle from its own weights."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

FORMULA = say(en="forward(x) = w_down(silu(w_gate(x)) * w_up(x)), silu(z) = z·sigmoid(z), on the GATE branch only.",
              zh="forward(x) = w_down(silu(w_gate(x)) * w_up(x))，silu(z) = z·sigmoid(z)，只作用在门控（gate）分支上。")


def make(impl, d_model, d_hidden, seed):
    """The module under test, its linears checked, with random (not default-init) weights of a useful size."""
    torch.manual_seed(seed)
    ffn = impl.SwiGLU(d_model, d_hidden)
    expect(isinstance(ffn, nn.Module), say(en=f"SwiGLU({d_model}, {d_hidden}) must be an nn.Module",
                                           zh=f"SwiGLU({d_model}, {d_hidden}) 必须是 nn.Module"))
    for name, (fan_in, fan_out) in (("w_gate", (d_model, d_hidden)), ("w_up", (d_model, d_hidden)),
                                    ("w_down", (d_hidden, d_model))):
        layer = getattr(ffn, name, None)
        expect(isinstance(layer, nn.Linear) and tuple(layer.weight.shape) == (fan_out, fan_in),
               say(en=f"SwiGLU({d_model}, {d_hidden}) needs a submodule `{name}` = nn.Linear({fan_in}, {fan_out}, "
                      f"bias=False); found {layer!r}",
                   zh=f"SwiGLU({d_model}, {d_hidden}) 需要子模块 `{name}` = nn.Linear({fan_in}, {fan_out}, "
                      f"bias=False)；实际是 {layer!r}"))
        expect(layer.bias is None,
               say(en=f"SwiGLU({d_model}, {d_hidden}).{name} has a bias; LLaMA-style SwiGLU layers have none "
                      "(nn.Linear(..., bias=False)).",
                   zh=f"SwiGLU({d_model}, {d_hidden}).{name} 有偏置；LLaMA 风格的 SwiGLU 各层都没有偏置"
                      "（nn.Linear(..., bias=False)）。"))
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
           say(en=f"SwiGLU(6, 16) has {n_params} parameters; expected exactly 3 · d_model · d_hidden = {3 * 6 * 16} "
                  "(three bias-free matrices: w_gate, w_up, w_down, nothing else).",
               zh=f"SwiGLU(6, 16) 有 {n_params} 个参数；应恰好是 3 · d_model · d_hidden = {3 * 6 * 16} 个"
                  "（三个无偏置矩阵：w_gate、w_up、w_down，别无其他）。"))


def test_matches_formula(impl):
    ffn = make(impl, 8, 12, seed=1)
    x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(1))
    got = ffn(x)
    expect_tensor(got, say(en="SwiGLU(8, 12)(x of shape (2, 5, 8))", zh="SwiGLU(8, 12)(形状为 (2, 5, 8) 的 x)"),
                  shape=(2, 5, 8), dtype=torch.float32)
    expect_close(got, oracle(ffn, x), say(en="SwiGLU(8, 12)(x) vs the formula from its own weights",
                                          zh="SwiGLU(8, 12)(x) 与用它自己的权重按公式算出的结果对比"), atol=1e-5,
                 rtol=1e-4, hint=FORMULA, likely=likely_swiglu_mistakes(ffn, x))


def likely_swiglu_mistakes(ffn, x):
    """What the usual mistakes give (built from the module's own weights), each with its cause."""
    xd = x.double()
    g = xd @ ffn.w_gate.weight.detach().double().T
    u = xd @ ffn.w_up.weight.detach().double().T
    down = ffn.w_down.weight.detach().double().T
    return tuple((v.float(), c) for v, c in (
        ((u * torch.sigmoid(u) * g) @ down,
         say(en="the branches are swapped: silu(w_up(x)) * w_gate(x); apply SiLU to w_gate(x).",
             zh="两个分支弄反了：silu(w_up(x)) * w_gate(x)；SiLU 应作用在 w_gate(x) 上。")),
        ((F.gelu(g) * u) @ down,
         say(en="the gate uses GELU (that is GEGLU); SwiGLU uses SiLU: F.silu(w_gate(x)).",
             zh="门控用了 GELU（那是 GEGLU）；SwiGLU 用的是 SiLU：F.silu(w_gate(x))。")),
        ((torch.sigmoid(g) * u) @ down,
         say(en="the gate is a plain sigmoid (the original GLU); use silu(z) = z·sigmoid(z).",
             zh="门控是普通的 sigmoid（原始 GLU）；应使用 silu(z) = z·sigmoid(z)。")),
        (F.silu(g * u) @ down,
         say(en="SiLU is applied after the product, silu(w_gate(x) * w_up(x)); gate with silu(w_gate(x)), then multiply "
                "by w_up(x).",
             zh="SiLU 作用在乘积之后，silu(w_gate(x) * w_up(x))；应先算 silu(w_gate(x))，再乘以 w_up(x)。"))))


def test_gate_and_up_not_swapped(impl):
    # w_gate and w_up have the same shape; swapping them is invisible to the shapes, visible to the values.
    ffn = make(impl, 5, 7, seed=2)
    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(2))
    got = ffn(x)
    swapped = oracle_with(ffn, x, gate=ffn.w_up, up=ffn.w_gate)
    expect_close(got, oracle(ffn, x), "SwiGLU(5, 7)(x (6, 5))", atol=1e-5, rtol=1e-4, hint=FORMULA,
                 likely=((swapped, say(en="silu(w_up(x)) * w_gate(x): the two branches are swapped; apply SiLU to "
                                          "w_gate(x).",
                                       zh="silu(w_up(x)) * w_gate(x)：两个分支弄反了；SiLU 应作用在 w_gate(x) 上。")),)
                 + likely_swiglu_mistakes(ffn, x))


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
    candidates = ((F.gelu(xd) * xd, say(en="act(x) * x with act = GELU (that is GEGLU); SwiGLU uses SiLU, F.silu(z).",
                                        zh="act(x) * x 中 act = GELU（那是 GEGLU）；SwiGLU 用的是 SiLU，F.silu(z)。")),
                  (F.relu(xd) * xd, say(en="act(x) * x with act = ReLU (that is ReGLU); SwiGLU uses SiLU, F.silu(z).",
                                        zh="act(x) * x 中 act = ReLU（那是 ReGLU）；SwiGLU 用的是 SiLU，F.silu(z)。")),
                  (torch.sigmoid(xd) * xd,
                   say(en="act(x) * x with act = sigmoid (the original GLU); SwiGLU uses silu(z) = z·sigmoid(z).",
                       zh="act(x) * x 中 act = sigmoid（原始 GLU）；SwiGLU 用的是 silu(z) = z·sigmoid(z)。")),
                  (xd * xd, say(en="no activation at all (a bilinear layer); gate with F.silu(w_gate(x)).",
                                zh="完全没有激活函数（双线性层）；要用 F.silu(w_gate(x)) 做门控。")),
                  (F.silu(xd * xd), say(en="SiLU applied after the product, silu(w_gate(x) * w_up(x)); gate with "
                                           "silu(w_gate(x)), then multiply.",
                                        zh="SiLU 作用在乘积之后，silu(w_gate(x) * w_up(x))；应先算 silu(w_gate(x))，再相乘。")))
    expect_close(got, want, say(en="SwiGLU(4, 4) with w_gate = w_up = w_down = identity, i.e. silu(x) * x",
                                zh="w_gate = w_up = w_down = 单位矩阵时的 SwiGLU(4, 4)，即 silu(x) * x"), atol=1e-5,
                 rtol=1e-4, hint=say(en="SwiGLU uses SiLU (swish), silu(z) = z·sigmoid(z) = F.silu(z).",
                                     zh="SwiGLU 使用 SiLU（swish），silu(z) = z·sigmoid(z) = F.silu(z)。"),
                 likely=tuple((v.float(), c) for v, c in candidates))


def test_batch_dims(impl):
    ffn = make(impl, 3, 5, seed=3)
    g = torch.Generator().manual_seed(3)
    for shape in ((3,), (4, 3), (2, 2, 2, 3)):
        x = torch.randn(shape, generator=g)
        got = ffn(x)
        expect_tensor(got, say(en=f"SwiGLU(3, 5)(x of shape {shape})", zh=f"SwiGLU(3, 5)(形状为 {shape} 的 x)"),
                      shape=shape, dtype=torch.float32)
        expect_close(got, oracle(ffn, x), say(en=f"SwiGLU(3, 5)(x of shape {shape})", zh=f"SwiGLU(3, 5)(形状为 {shape} 的 x)"),
                     atol=1e-5, rtol=1e-4,
                     hint=say(en="The layer acts on the last dim only; nn.Linear handles any leading dims.",
                              zh="这一层只作用在最后一维上；nn.Linear 能处理任意多个前导维度。"),
                     likely=likely_swiglu_mistakes(ffn, x))


def test_gradients_reach_all_three_matrices(impl):
    ffn = make(impl, 4, 6, seed=4)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(4))
    ffn(x).pow(2).sum().backward()
    for name in ("w_gate", "w_up", "w_down"):
        grad = getattr(ffn, name).weight.grad
        expect(grad is not None and bool(grad.abs().sum() > 0),
               say(en=f"{name}.weight received no gradient — is {name} used in forward (and not detached)?",
                   zh=f"{name}.weight 没有得到梯度——forward 里用到 {name} 了吗（并且没有 detach）？"))


def test_deterministic_and_input_unchanged(impl):
    ffn = make(impl, 4, 6, seed=5)
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(5))
    before = x.clone()
    expect_deterministic(ffn, x, what="SwiGLU(4, 6)(x)")
    ffn(x)
    expect(torch.equal(before, x), say(en="SwiGLU.forward modified its input x in place; use out-of-place ops.",
                                       zh="SwiGLU.forward 原地修改了输入 x；要用非原地运算。"))


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**16))
def test_property_any_size(impl, d_model, d_hidden, n, seed):
    ffn = make(impl, d_model, d_hidden, seed=seed % 1000)
    x = torch.randn(n, d_model, generator=torch.Generator().manual_seed(seed))
    expect_close(ffn(x), oracle(ffn, x),
                 say(en=f"SwiGLU({d_model}, {d_hidden}) on x of shape ({n}, {d_model})",
                     zh=f"形状为 ({n}, {d_model}) 的 x 上的 SwiGLU({d_model}, {d_hidden})"),
                 atol=1e-5, rtol=1e-4, hint=FORMULA, likely=likely_swiglu_mistakes(ffn, x))
