"""moe-layer: sparse top-k MoE; known recording experts are compared with a per-token loop, and their calls checked."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say
from genprep.learner.lang import part

HINT = say(en="Flatten x to (N, d_model) tokens; (w, e) = top_k_routing(router(tokens), k) with the softmax over the k "
              "selected logits; for each expert, gather the tokens routed to it, call the expert ONCE on that "
              "(n_routed, d_model) batch, and add w · output back to those tokens' rows (index_add); reshape to "
              "(B, T, d).",
           zh="把 x 展平成 (N, d_model) 个 token；(w, e) = top_k_routing(router(tokens), k)，softmax 只在选中的 k 个 "
              "logits 上做；对每个专家，收集路由给它的 token，在这个 (n_routed, d_model) 的批上【只调用一次】专家，"
              "再把 w · 输出加回这些 token 所在的行（index_add）；最后 reshape 成 (B, T, d)。")


def likely_output_mistakes(moe, x, k, expert_fn):
    """What the usual weighting mistakes give, each with its cause."""
    tokens = x.reshape(-1, x.size(-1))
    probs = (tokens.double() @ moe.router.weight.detach().double().T).softmax(-1)
    all_w, ones = [], []
    for tok, p, (chosen, _) in zip(tokens, probs, routes(moe, tokens, k)):
        outs = [expert_fn(e, tok[None])[0] for e in chosen]
        all_w.append(sum(p[e] * o for e, o in zip(chosen, outs)))
        ones.append(sum(outs))
    return ((torch.stack(all_w).reshape(x.shape).float(),
             say(en="each output weighted by its probability from a softmax over ALL experts; renormalize over the k "
                    "selected ones (softmax of the top-k logits).",
                 zh="每个输出的权重取自在【全部】专家上做的 softmax；应在选中的 k 个专家上重新归一化"
                    "（对 top-k 的 logits 做 softmax）。")),
            (torch.stack(ones).reshape(x.shape).float(),
             say(en="the selected experts' outputs added without the routing weights; multiply each by its weight w "
                    "(that is also how the router gets a gradient).",
                 zh="把选中专家的输出直接相加，没有乘路由权重；每个输出都要乘上它的权重 w（路由器也正是借此得到梯度）。")))


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
    expect(isinstance(moe, nn.Module), say(en="MoE must be an nn.Module", zh="MoE 必须是 nn.Module"))
    router = getattr(moe, "router", None)
    expect(isinstance(router, nn.Linear) and tuple(router.weight.shape) == (n_experts, d_model)
           and router.bias is None,
           say(en=f"MoE({d_model}, {d_hidden}, {n_experts}, {k}) needs `router` = nn.Linear({d_model}, {n_experts}, "
                  f"bias=False); found {router!r}",
               zh=f"MoE({d_model}, {d_hidden}, {n_experts}, {k}) 需要 `router` = nn.Linear({d_model}, {n_experts}, "
                  f"bias=False)；实际是 {router!r}"))
    experts = getattr(moe, "experts", None)
    expect(isinstance(experts, nn.ModuleList) and len(experts) == n_experts,
           say(en=f"MoE(..., n_experts={n_experts}, ...) needs `experts` = nn.ModuleList of {n_experts} modules; "
                  f"found {type(experts).__name__}",
               zh=f"MoE(..., n_experts={n_experts}, ...) 需要 `experts` = 含 {n_experts} 个模块的 nn.ModuleList；"
                  f"实际是 {type(experts).__name__}"))
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
    w_en, w_zh = part(what, "en"), part(what, "zh")
    tokens = x.reshape(-1, x.size(-1))
    assigned = {e: [] for e in range(len(moe.experts))}
    for n, (chosen, _) in enumerate(routes(moe, tokens, k)):
        for e in chosen:
            assigned[e].append(n)
    for e, expert in enumerate(moe.experts):
        calls, mine = expert.calls, assigned[e]
        if not mine:
            shapes = [tuple(c.shape) for c in calls]
            expect(len(calls) == 0,
                   say(en=f"{w_en}: expert {e} received no token but was called {len(calls)} time(s) (on inputs of "
                          f"shape {shapes}); skip idle experts.",
                       zh=f"{w_zh}：专家 {e} 没有分到任何 token，却被调用了 {len(calls)} 次（输入形状为 {shapes}）；"
                          "要跳过空闲的专家。"))
            continue
        expect(len(calls) == 1,
               say(en=f"{w_en}: expert {e} was called {len(calls)} times; it must be called ONCE per forward, on the "
                      f"batch of all {len(mine)} token(s) routed to it (one call per token or per slot is not sparse "
                      "dispatch).",
                   zh=f"{w_zh}：专家 {e} 被调用了 {len(calls)} 次；每次前向传播它只能被调用【一次】，输入是路由给它的"
                      f"全部 {len(mine)} 个 token 组成的批（每个 token 或每个槽位调用一次不是稀疏分发）。"))
        seen = calls[0]
        dense = seen.numel() >= tokens.numel()
        expect(seen.dim() == 2 and seen.size(0) == len(mine),
               say(en=f"{w_en}: expert {e} was called on a tensor of shape {tuple(seen.shape)}; expected "
                      f"({len(mine)}, {tokens.size(1)}), the {len(mine)} token(s) routed to it"
                      + (" — every expert must not see every token." if dense else "."),
                   zh=f"{w_zh}：专家 {e} 被调用时输入的形状是 {tuple(seen.shape)}；应为 "
                      f"({len(mine)}, {tokens.size(1)})，即路由给它的 {len(mine)} 个 token"
                      + ("——不能让每个专家都看到所有 token。" if dense else "。")))
        want = tokens[mine]
        got_rows = sorted(seen.tolist())
        want_rows = sorted(want.tolist())
        expect(all(torch.allclose(torch.tensor(a), torch.tensor(b)) for a, b in zip(got_rows, want_rows)),
               say(en=f"{w_en}: expert {e} was called on the wrong tokens; it must receive exactly the tokens whose "
                      f"top-{k} experts include {e} (token indices {mine} of the flattened (B·T, d) input), unchanged.",
                   zh=f"{w_zh}：专家 {e} 收到的 token 不对；它必须恰好收到 top-{k} 专家中包含 {e} 的那些 token"
                      f"（展平后 (B·T, d) 输入中的索引 {mine}），且不做任何改动。"))


def test_structure_and_default_swiglu_experts(impl):
    moe = make(impl, 6, 10, 4, 2, seed=0, record=False)
    for e, expert in enumerate(moe.experts):
        for name, shape in (("w_gate", (10, 6)), ("w_up", (10, 6)), ("w_down", (6, 10))):
            layer = getattr(expert, name, None)
            expect(isinstance(layer, nn.Linear) and tuple(layer.weight.shape) == shape and layer.bias is None,
                   say(en=f"MoE(6, 10, 4, 2).experts[{e}] must be a SwiGLU(6, 10) with `{name}` = nn.Linear without "
                          f"bias, weight shape {shape}; found {layer!r}",
                       zh=f"MoE(6, 10, 4, 2).experts[{e}] 必须是 SwiGLU(6, 10)，其中 `{name}` = 不带偏置的 nn.Linear，"
                          f"权重形状为 {shape}；实际是 {layer!r}"))
    x = torch.randn(2, 3, 6, generator=torch.Generator().manual_seed(0))

    def swiglu(e, tok):
        ex = moe.experts[e]
        t = tok.double()
        gate = t @ ex.w_gate.weight.detach().double().T
        return (gate * torch.sigmoid(gate) * (t @ ex.w_up.weight.detach().double().T)) \
            @ ex.w_down.weight.detach().double().T

    expect_close(forward(moe, x, "MoE(6, 10, 4, 2)(x (2, 3, 6))"), loop_oracle(moe, x, 2, swiglu),
                 say(en="MoE(6, 10, 4, 2) with its default SwiGLU experts vs a per-token loop",
                     zh="使用默认 SwiGLU 专家的 MoE(6, 10, 4, 2) 与逐 token 循环的比较"), atol=1e-5, rtol=1e-4,
                 hint=say(en=HINT.en + " Each default expert is SwiGLU: w_down(silu(w_gate(x)) * w_up(x)).",
                          zh=HINT.zh + "每个默认专家都是 SwiGLU：w_down(silu(w_gate(x)) * w_up(x))。"),
                 likely=likely_output_mistakes(moe, x, 2, swiglu))


def test_matches_per_token_loop_with_known_experts(impl):
    moe = make(impl, 4, 8, 5, 2, seed=1)
    x = torch.randn(2, 6, 4, generator=torch.Generator().manual_seed(1))
    got = forward(moe, x, "MoE(4, 8, 5, 2)(x (2, 6, 4))")
    want = loop_oracle(moe, x, 2, lambda e, tok: moe.experts[e].fn(tok))
    expect_close(got, want, say(en="MoE(4, 8, 5, 2) with known experts vs the per-token loop Σ_j w_j · expert_{e_j}(x)",
                                zh="使用已知专家的 MoE(4, 8, 5, 2) 与逐 token 循环 Σ_j w_j · expert_{e_j}(x) 的比较"),
                 atol=1e-5, rtol=1e-4, hint=HINT,
                 likely=likely_output_mistakes(moe, x, 2, lambda e, tok: moe.experts[e].fn(tok)))


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
    what = say(en="MoE(4, 8, 4, 2) where the router never picks expert 3", zh="路由器从不选专家 3 时的 MoE(4, 8, 4, 2)")
    got = forward(moe, x, what)
    n = len(moe.experts[3].calls)
    expect(n == 0,
           say(en=f"{what.en}: expert 3 got no token but was called {n} time(s); an expert with no routed token must "
                  "not be called at all (not even on an empty batch).",
               zh=f"{what.zh}：专家 3 没有分到 token，却被调用了 {n} 次；没有路由到 token 的专家根本不能被调用"
                  "（空批也不行）。"))
    check_dispatch(moe, x, 2, what)
    expect_close(got, loop_oracle(moe, x, 2, lambda e, tok: moe.experts[e].fn(tok)), what, atol=1e-5, rtol=1e-4,
                 hint=HINT, likely=likely_output_mistakes(moe, x, 2, lambda e, tok: moe.experts[e].fn(tok)))


def test_top_1_and_all_experts(impl):
    for k in (1, 3):
        moe = make(impl, 3, 4, 3, k, seed=4 + k)
        x = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(4 + k))
        what = f"MoE(3, 4, 3, k={k})(x (2, 4, 3))"
        got = forward(moe, x, what)
        check_dispatch(moe, x, k, what)
        extra = say(en=" With k = 1 the single weight is 1.", zh="k = 1 时唯一的权重就是 1。") if k == 1 else \
            say(en=" With k = n_experts every token goes to every expert.", zh="k = n_experts 时每个 token 都交给每个专家。")
        expect_close(got, loop_oracle(moe, x, k, lambda e, tok: moe.experts[e].fn(tok)), what, atol=1e-5,
                     rtol=1e-4, hint=say(en=HINT.en + extra.en, zh=HINT.zh + extra.zh),
                     likely=likely_output_mistakes(moe, x, k, lambda e, tok: moe.experts[e].fn(tok)))


def test_gradients_reach_router_and_experts(impl):
    moe = make(impl, 4, 6, 3, 2, seed=6, record=False)
    x = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(6))
    forward(moe, x, "MoE(4, 6, 3, 2)(x (2, 5, 4))").pow(2).sum().backward()
    grad = moe.router.weight.grad
    expect(grad is not None and bool(grad.abs().sum() > 0),
           say(en="router.weight received no gradient: the routing weights w (softmax of the selected logits) must "
                  "multiply the expert outputs, without .detach() — the selection is discrete, the weights are not.",
               zh="router.weight 没有得到梯度：路由权重 w（选中 logits 的 softmax）必须乘到专家输出上，且不能 .detach()"
                  "——选择是离散的，权重不是。"))
    used = [e for e, ex in enumerate(moe.experts) if any(p.grad is not None and bool(p.grad.abs().sum() > 0)
                                                         for p in ex.parameters())]
    expect(len(used) >= 2,
           say(en=f"only experts {used} received gradients; every expert that gets tokens must be part of the "
                  "computation graph.",
               zh=f"只有专家 {used} 得到了梯度；每个分到 token 的专家都必须在计算图中。"))


def test_deterministic_and_input_unchanged(impl):
    moe = make(impl, 4, 6, 3, 2, seed=7, record=False)
    x = torch.randn(1, 4, 4, generator=torch.Generator().manual_seed(7))
    before = x.clone()
    expect_deterministic(moe, x, what="MoE(4, 6, 3, 2)(x)")
    expect(torch.equal(before, x), say(en="MoE.forward modified its input x in place; use out-of-place ops.",
                                       zh="MoE.forward 原地修改了输入 x；请用非原地运算。"))


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
                 hint=HINT, likely=likely_output_mistakes(moe, x, k, lambda e, tok: moe.experts[e].fn(tok)))
