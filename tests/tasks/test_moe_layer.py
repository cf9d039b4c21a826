"""moe-layer: sparse top-k MoE; known recording experts are compared with a per-token loop, and their calls checked."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

HINT = ("Flatten x to (N, d_model) tokens; (w, e) = top_k_routing(router(tokens), k) with the softmax over the k "
        "selected logits; for each expert, gather the tokens routed to it, call the expert ONCE on that "
        "(n_routed, d_model) batch, and add w · output back to those tokens' rows (index_add); reshape to (B, T, d).")


class Recorder(nn.Module):
    """A known expert, y = tanh(x A) + c, that records every call it receives."""

    def __init__(self, d, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.A = nn.Parameter(torch.randn(d, d, generator=g))
        self.c = nn.Parameter(torch.randn(d, generator=g))
        self.calls = []

    def fn(self, x):
        return torch.tanh(x.double() @ self.A.detach().double()) + self.c.detach().double()

    def forward(self, x):
        self.calls.append(x.detach().clone())
        return torch.tanh(x @ self.A) + self.c


def make(impl, d_model, d_hidden, n_experts, k, seed, record=True):
    torch.manual_seed(seed)
    moe = impl.MoE(d_model, d_hidden, n_experts, k)
    expect(isinstance(moe, nn.Module), "MoE must be an nn.Module")
    router = getattr(moe, "router", None)
    expect(isinstance(router, nn.Linear) and tuple(router.weight.shape) == (n_experts, d_model)
           and router.bias is None,
           f"MoE({d_model}, {d_hidden}, {n_experts}, {k}) needs `router` = nn.Linear({d_model}, {n_experts}, "
           f"bias=False); found {router!r}")
    experts = getattr(moe, "experts", None)
    expect(isinstance(experts, nn.ModuleList) and len(experts) == n_experts,
           f"MoE(..., n_experts={n_experts}, ...) needs `experts` = nn.ModuleList of {n_experts} modules; "
           f"found {type(experts).__name__}")
    with torch.no_grad():
        router.weight.copy_(torch.randn(n_experts, d_model, generator=torch.Generator().manual_seed(50 + seed)))
    if record:
        moe.experts = nn.ModuleList(Recorder(d_model, 100 * seed + e) for e in range(n_experts))
    return moe


def routes(moe, tokens, k):
    """Per token, in float64: the k selected experts (by a full descending sort) and their softmax weights."""
    logits = tokens.double() @ moe.router.weight.detach().double().T
    out = []
    for z in logits:
        order = z.argsort(descending=True)[:k]
        w = (z[order] - z[order].max()).exp()
        out.append((order.tolist(), (w / w.sum()).tolist()))
    return out


def loop_oracle(moe, x, k, expert_fn):
    """The per-token loop: y_n = Σ_j w_j · expert_{e_j}(x_n)."""
    tokens = x.reshape(-1, x.size(-1))
    ys = []
    for tok, (chosen, weights) in zip(tokens, routes(moe, tokens, k)):
        ys.append(sum(w * expert_fn(e, tok[None])[0] for e, w in zip(chosen, weights)))
    return torch.stack(ys).reshape(x.shape).float()


def forward(moe, x, what):
    y = moe(x)
    expect_tensor(y, what, shape=tuple(x.shape), dtype=torch.float32)
    return y


def check_dispatch(moe, x, k, what):
    """Every expert was called at most once, on exactly the tokens routed to it."""
    tokens = x.reshape(-1, x.size(-1))
    assigned = {e: [] for e in range(len(moe.experts))}
    for n, (chosen, _) in enumerate(routes(moe, tokens, k)):
        for e in chosen:
            assigned[e].append(n)
    for e, expert in enumerate(moe.experts):
        calls, mine = expert.calls, assigned[e]
        if not mine:
            expect(len(calls) == 0, f"{what}: expert {e} received no token but was called {len(calls)} time(s) (on "
                                    f"inputs of shape {[tuple(c.shape) for c in calls]}); skip idle experts.")
            continue
        expect(len(calls) == 1,
               f"{what}: expert {e} was called {len(calls)} times; it must be called ONCE per forward, on the batch "
               f"of all {len(mine)} token(s) routed to it (one call per token or per slot is not sparse dispatch).")
        seen = calls[0]
        expect(seen.dim() == 2 and seen.size(0) == len(mine),
               f"{what}: expert {e} was called on a tensor of shape {tuple(seen.shape)}; expected "
               f"({len(mine)}, {tokens.size(1)}), the {len(mine)} token(s) routed to it"
               + (" — every expert must not see every token." if seen.numel() >= tokens.numel() else "."))
        want = tokens[mine]
        got_rows = sorted(seen.tolist())
        want_rows = sorted(want.tolist())
        expect(all(torch.allclose(torch.tensor(a), torch.tensor(b)) for a, b in zip(got_rows, want_rows)),
               f"{what}: expert {e} was called on the wrong tokens; it must receive exactly the tokens whose top-{k} "
               f"experts include {e} (token indices {mine} of the flattened (B·T, d) input), unchanged.")


def test_structure_and_default_swiglu_experts(impl):
    moe = make(impl, 6, 10, 4, 2, seed=0, record=False)
    for e, expert in enumerate(moe.experts):
        for name, shape in (("w_gate", (10, 6)), ("w_up", (10, 6)), ("w_down", (6, 10))):
            layer = getattr(expert, name, None)
            expect(isinstance(layer, nn.Linear) and tuple(layer.weight.shape) == shape and layer.bias is None,
                   f"MoE(6, 10, 4, 2).experts[{e}] must be a SwiGLU(6, 10) with `{name}` = nn.Linear without bias, "
                   f"weight shape {shape}; found {layer!r}")
    x = torch.randn(2, 3, 6, generator=torch.Generator().manual_seed(0))

    def swiglu(e, tok):
        ex = moe.experts[e]
        t = tok.double()
        gate = t @ ex.w_gate.weight.detach().double().T
        return (gate * torch.sigmoid(gate) * (t @ ex.w_up.weight.detach().double().T)) \
            @ ex.w_down.weight.detach().double().T

    expect_close(forward(moe, x, "MoE(6, 10, 4, 2)(x (2, 3, 6))"), loop_oracle(moe, x, 2, swiglu),
                 "MoE(6, 10, 4, 2) with its default SwiGLU experts vs a per-token loop", atol=1e-5, rtol=1e-4,
                 hint=HINT + " Each default expert is SwiGLU: w_down(silu(w_gate(x)) * w_up(x)).")


def test_matches_per_token_loop_with_known_experts(impl):
    moe = make(impl, 4, 8, 5, 2, seed=1)
    x = torch.randn(2, 6, 4, generator=torch.Generator().manual_seed(1))
    got = forward(moe, x, "MoE(4, 8, 5, 2)(x (2, 6, 4))")
    want = loop_oracle(moe, x, 2, lambda e, tok: moe.experts[e].fn(tok))
    expect_close(got, want, "MoE(4, 8, 5, 2) with known experts vs the per-token loop Σ_j w_j · expert_{e_j}(x)",
                 atol=1e-5, rtol=1e-4, hint=HINT)


def test_each_expert_sees_exactly_its_tokens_once(impl):
    moe = make(impl, 3, 8, 6, 2, seed=2)
    x = torch.randn(3, 5, 3, generator=torch.Generator().manual_seed(2))
    forward(moe, x, "MoE(3, 8, 6, 2)(x (3, 5, 3))")
    check_dispatch(moe, x, 2, "MoE(3, 8, 6, 2)(x (3, 5, 3))")


def test_idle_expert_is_not_called(impl):
    moe = make(impl, 4, 8, 4, 2, seed=3)
    x = torch.randn(2, 4, 4, generator=torch.Generator().manual_seed(3))
    x[..., 0] = 3.0
    with torch.no_grad():
        moe.router.weight[:, 0] = 0.0
        moe.router.weight[3, 0] = -50.0  # expert 3's logit is ≈ −150: it is never in the top 2
    what = "MoE(4, 8, 4, 2) where the router never picks expert 3"
    got = forward(moe, x, what)
    expect(len(moe.experts[3].calls) == 0,
           f"{what}: expert 3 got no token but was called {len(moe.experts[3].calls)} time(s); an expert with no "
           "routed token must not be called at all (not even on an empty batch).")
    check_dispatch(moe, x, 2, what)
    expect_close(got, loop_oracle(moe, x, 2, lambda e, tok: moe.experts[e].fn(tok)), what, atol=1e-5, rtol=1e-4,
                 hint=HINT)


def test_top_1_and_all_experts(impl):
    for k in (1, 3):
        moe = make(impl, 3, 4, 3, k, seed=4 + k)
        x = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(4 + k))
        what = f"MoE(3, 4, 3, k={k})(x (2, 4, 3))"
        got = forward(moe, x, what)
        check_dispatch(moe, x, k, what)
        expect_close(got, loop_oracle(moe, x, k, lambda e, tok: moe.experts[e].fn(tok)), what, atol=1e-5,
                     rtol=1e-4, hint=HINT + (" With k = 1 the single weight is 1." if k == 1 else
                                             " With k = n_experts every token goes to every expert."))


def test_gradients_reach_router_and_experts(impl):
    moe = make(impl, 4, 6, 3, 2, seed=6, record=False)
    x = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(6))
    forward(moe, x, "MoE(4, 6, 3, 2)(x (2, 5, 4))").pow(2).sum().backward()
    grad = moe.router.weight.grad
    expect(grad is not None and bool(grad.abs().sum() > 0),
           "router.weight received no gradient: the routing weights w (softmax of the selected logits) must "
           "multiply the expert outputs, without .detach() — the selection is discrete, the weights are not.")
    used = [e for e, ex in enumerate(moe.experts) if any(p.grad is not None and bool(p.grad.abs().sum() > 0)
                                                         for p in ex.parameters())]
    expect(len(used) >= 2, f"only experts {used} received gradients; every expert that gets tokens must be part of "
                           "the computation graph.")


def test_deterministic_and_input_unchanged(impl):
    moe = make(impl, 4, 6, 3, 2, seed=7, record=False)
    x = torch.randn(1, 4, 4, generator=torch.Generator().manual_seed(7))
    before = x.clone()
    expect_deterministic(moe, x, what="MoE(4, 6, 3, 2)(x)")
    expect(torch.equal(before, x), "MoE.forward modified its input x in place; use out-of-place ops.")


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.data())
def test_property_any_shape(impl, B, T, d, E, data):
    k = data.draw(st.integers(1, E))
    seed = data.draw(st.integers(0, 1000))
    moe = make(impl, d, 4, E, k, seed=seed)
    x = torch.randn(B, T, d, generator=torch.Generator().manual_seed(seed))
    what = f"MoE({d}, 4, {E}, {k})(x ({B}, {T}, {d}))"
    got = forward(moe, x, what)
    check_dispatch(moe, x, k, what)
    expect_close(got, loop_oracle(moe, x, k, lambda e, tok: moe.experts[e].fn(tok)), what, atol=1e-5, rtol=1e-4,
                 hint=HINT)
