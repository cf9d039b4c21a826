"""moe-top-k-routing: top-k expert selection with softmax over the selected logits, and the Switch load-balancing loss."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor, say
from genprep.learner.lang import part

ROUTE = say(en="experts = the k largest logits' indices in descending logit order (router_logits.topk(k, dim=-1)); "
               "weights = softmax over those k selected logits only, so each row sums to 1.",
            zh="experts = 最大的 k 个 logits 的索引，按 logit 降序排列（router_logits.topk(k, dim=-1)）；"
               "weights = 只在这 k 个选中的 logits 上做 softmax，所以每行之和为 1。")
LOSS = say(en="loss = E · Σ_e f_e · P_e with f_e = (number of the N·k entries of `experts` equal to e) / (N·k), a count "
              "with no gradient, and P_e = softmax(router_logits, dim=-1)[:, e].mean() over ALL E experts.",
           zh="loss = E · Σ_e f_e · P_e，其中 f_e =（`experts` 的 N·k 个元素中等于 e 的个数）/ (N·k)，是一个不带梯度的"
              "计数；P_e = softmax(router_logits, dim=-1)[:, e].mean()，softmax 在【全部】E 个专家上做。")


def likely_loss_mistakes(logits, experts, E):
    """(loss function of the logits, cause) for the usual mistakes; differentiable, in the logits' dtype."""
    N, k = experts.shape
    counts = torch.bincount(experts.reshape(-1), minlength=E).to(logits.dtype)

    def p_from_selected(z):
        top = z.gather(-1, experts).softmax(-1)
        return E * (counts / (N * k) * torch.zeros_like(z).scatter(-1, experts, top).mean(0)).sum()

    def f_over_tokens(z):
        return E * (counts / N * z.softmax(-1).mean(0)).sum()

    def f_from_probs(z):
        probs = z.softmax(-1)
        picked = torch.zeros_like(probs).scatter(-1, experts, probs.gather(-1, experts))
        return E * (picked.sum(0) / picked.sum() * probs.mean(0)).sum()

    return ((p_from_selected, say(en="P taken from the top-k weights scattered into E slots; P_e is the mean of "
                                     "softmax(router_logits) over ALL E experts.",
                                  zh="P 取自散布到 E 个位置上的 top-k 权重；P_e 应是在【全部】E 个专家上做的 "
                                     "softmax(router_logits) 的均值。")),
            (f_over_tokens, say(en="the counts divided by N instead of N·k, so f sums to k; divide by N·k.",
                                zh="计数除以的是 N 而不是 N·k，f 的和变成了 k；应除以 N·k。")),
            (f_from_probs, say(en="f measured as router probability mass (a soft count); f_e is the fraction of the N·k "
                                  "assignments that went to e, a count with no gradient.",
                               zh="f 用的是路由概率质量（“软计数”）；f_e 应是 N·k 次分配中分给 e 的比例，"
                                  "是不带梯度的计数。")))


def likely_loss_values(logits, experts, E):
    z = logits.double()
    return tuple((fn(z).float(), cause) for fn, cause in likely_loss_mistakes(z, experts, E))


def route_oracle(logits, k):
    """Selection by a full descending sort in float64, weights by an explicit stable softmax of the selected logits."""
    order = logits.double().argsort(dim=-1, descending=True)[:, :k]
    top = logits.double().gather(-1, order)
    w = (top - top.max(-1, keepdim=True).values).exp()
    return (w / w.sum(-1, keepdim=True)).float(), order


def loss_oracle(logits, experts, E):
    N, k = experts.shape
    counts = torch.zeros(E, dtype=torch.float64)
    for e in experts.reshape(-1).tolist():
        counts[e] += 1
    P = logits.double().softmax(-1).mean(0)
    return float(E * (counts / (N * k) * P).sum())


def call_route(impl, logits, k):
    result = impl.top_k_routing(logits, k)
    expect(isinstance(result, tuple) and len(result) == 2,
           say(en=f"top_k_routing should return a tuple (weights, experts); got {type(result).__name__}",
               zh=f"top_k_routing 应返回元组 (weights, experts)；实际得到 {type(result).__name__}"))
    weights, experts = result
    N = logits.size(0)
    expect_tensor(weights, f"top_k_routing(logits ({N}, {logits.size(1)}), k={k}) weights", shape=(N, k),
                  dtype=torch.float32)
    expect_tensor(experts, f"top_k_routing(logits ({N}, {logits.size(1)}), k={k}) experts", shape=(N, k),
                  dtype=torch.int64)
    return weights, experts


def check_route(impl, logits, k, what):
    weights, experts = call_route(impl, logits, k)
    w_en, w_zh = part(what, "en"), part(what, "zh")
    want_w, want_e = route_oracle(logits, k)
    if not torch.equal(experts, want_e):
        n = int((experts != want_e).any(-1).nonzero()[0])
        same_set = sorted(experts[n].tolist()) == sorted(want_e[n].tolist())
        probs = logits[n].softmax(-1)
        tied_at_zero = int((probs[want_e[n]] == 0).sum()) > 0  # the wanted experts' probabilities underflowed
        order = say(en="Right experts, wrong order: list them by DESCENDING logit, as torch.topk does. ",
                    zh="专家选对了，顺序不对：要像 torch.topk 那样按 logit【降序】排列。") if same_set else say(en="", zh="")
        tied = say(en="With logits this far apart the softmax probabilities of the lower experts underflow to exactly 0 "
                      "and tie, so choosing the top k from softmax(logits) picks arbitrary experts: select with topk on "
                      "the LOGITS, then take the softmax of the selected ones. ",
                   zh="logits 相差这么大时，较低专家的 softmax 概率会下溢成正好 0 而并列，从 softmax(logits) 里选 top k "
                      "就会选出任意的专家：要在【logits】上用 topk 选择，再对选中的 logits 做 softmax。") \
            if tied_at_zero and not same_set else say(en="", zh="")
        shown = [round(x, 3) for x in logits[n].tolist()]
        expect(False, say(en=f"{w_en}: token {n} got experts {experts[n].tolist()}, expected {want_e[n].tolist()} "
                             f"(logits {shown}). " + order.en + tied.en + ROUTE.en,
                          zh=f"{w_zh}：token {n} 得到的专家是 {experts[n].tolist()}，应为 {want_e[n].tolist()}"
                             f"（logits {shown}）。" + order.zh + tied.zh + ROUTE.zh))
    sums = weights.double().sum(-1)
    not_one = say(en="", zh="") if bool(((sums - 1).abs() < 1e-5).all()) else say(
        en=f"Your weights sum to {sums[0].item():.4f} (row 0), not 1: a softmax over all E experts followed by taking "
           "the top k is not renormalized. ",
        zh=f"你的权重之和是 {sums[0].item():.4f}（第 0 行），不是 1：先在全部 E 个专家上做 softmax 再取 top k，"
           "没有重新归一化。")
    expect_close(weights, want_w, say(en=f"{w_en}: weights", zh=f"{w_zh} 的 weights"), atol=1e-6, rtol=1e-5,
                 hint=say(en=not_one.en + ROUTE.en, zh=not_one.zh + ROUTE.zh))
    return weights, experts


def test_selection_and_weights(impl):
    g = torch.Generator().manual_seed(0)
    logits = 2 * torch.randn(10, 8, generator=g)
    check_route(impl, logits, 2, "top_k_routing(logits (10, 8), k=2)")


def test_several_k(impl):
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(7, 6, generator=g)
    for k in (1, 3, 6):
        weights, _ = check_route(impl, logits, k, f"top_k_routing(logits (7, 6), k={k})")
        if k == 1:
            expect(bool((weights == 1).all()) or bool(((weights - 1).abs() < 1e-6).all()),
                   say(en=f"with k=1 every weight must be 1 (softmax over one logit); got {weights[:3, 0].tolist()}",
                       zh=f"k=1 时每个权重都必须是 1（对一个 logit 做 softmax）；实际得到 {weights[:3, 0].tolist()}"))


def test_weights_depend_only_on_the_selected_logits(impl):
    g = torch.Generator().manual_seed(2)
    logits = 0.5 * torch.randn(5, 6, generator=g) + torch.tensor([6.0, 5.0, 0.0, 0.0, 0.0, 0.0])  # top 2: experts 0, 1
    w1, e1 = check_route(impl, logits, 2, "top_k_routing(logits (5, 6), k=2)")
    lowered = logits.clone()
    lowered[:, 2:] -= 5.0  # the unselected logits drop further; the selection and the weights must not change
    w2, e2 = check_route(impl, lowered, 2, say(en="top_k_routing with the unselected logits lowered by 5",
                                               zh="未选中 logits 降低 5 之后的 top_k_routing"))
    expect(torch.equal(e1, e2), say(en="lowering the logits of unselected experts changed the selection.",
                                    zh="降低未选中专家的 logits 改变了选择结果。"))
    expect_close(w2, w1, say(en="weights after lowering the unselected logits vs before",
                             zh="降低未选中 logits 前后的权重比较"), atol=1e-6,
                 hint=say(en="The weights are a softmax over the k SELECTED logits only; the other E − k logits must "
                             "play no part (a softmax over all E experts would change).",
                          zh="权重只是在 k 个【选中】的 logits 上做的 softmax；其余 E − k 个 logits 不能起任何作用"
                             "（在全部 E 个专家上做 softmax 就会变化）。"))


def test_large_logits_are_stable(impl):
    g = torch.Generator().manual_seed(3)
    logits = 1000 * torch.randn(6, 5, generator=g)
    check_route(impl, logits, 2, "top_k_routing(1000 · randn (6, 5), k=2)")


@given(st.integers(1, 5), st.integers(1, 6), st.data())
def test_property_routing(impl, N, E, data):
    k = data.draw(st.integers(1, E))
    seed = data.draw(st.integers(0, 2**16))
    logits = torch.randn(N, E, generator=torch.Generator().manual_seed(seed))
    check_route(impl, logits, k, f"top_k_routing(logits ({N}, {E}), k={k})")


def call_loss(impl, logits, experts, E, what):
    loss = impl.load_balancing_loss(logits, experts, E)
    expect_tensor(loss, what, shape=(), dtype=torch.float32)
    return loss


def test_loss_closed_form(impl):
    g = torch.Generator().manual_seed(4)
    for N, E, k in ((12, 4, 2), (9, 6, 1), (16, 8, 3)):
        logits = 1.5 * torch.randn(N, E, generator=g)
        _, experts = route_oracle(logits, k)
        what = f"load_balancing_loss(logits ({N}, {E}), experts ({N}, {k}), {E})"
        extra = say(en=" With k > 1 divide the counts by N·k, not N.", zh="k > 1 时计数要除以 N·k，而不是 N。") \
            if k > 1 else say(en="", zh="")
        expect_scalar(call_loss(impl, logits, experts, E, what), loss_oracle(logits, experts, E), what, atol=1e-5,
                      rtol=1e-5, hint=say(en=LOSS.en + extra.en, zh=LOSS.zh + extra.zh),
                      likely=likely_loss_values(logits, experts, E))


def test_uniform_probabilities_give_one(impl):
    # Equal logits: P_e = 1/E, so E · Σ f_e / E = 1 whatever the assignment.
    g = torch.Generator().manual_seed(5)
    for N, E, k in ((10, 4, 1), (6, 8, 2), (5, 5, 3)):
        experts = torch.stack([torch.randperm(E, generator=g)[:k] for _ in range(N)])
        what = f"load_balancing_loss(zeros ({N}, {E}), random experts (k={k}), {E})"
        expect_scalar(call_loss(impl, torch.zeros(N, E), experts, E, what), 1.0, what, atol=1e-5, rtol=1e-5,
                      hint=say(en="With uniform router probabilities P_e = 1/E and Σ_e f_e = 1, so the loss is exactly 1. "
                                  + LOSS.en,
                               zh="路由概率均匀时 P_e = 1/E，且 Σ_e f_e = 1，所以损失恰好是 1。" + LOSS.zh),
                      likely=likely_loss_values(torch.zeros(N, E), experts, E))


def test_skewed_routing_costs_more(impl):
    # Probabilities and assignments both concentrated on experts 0 and 1 of 4.
    N, E = 8, 4
    logits = torch.tensor([[3.0, 2.0, 0.0, -1.0]]).repeat(N, 1) + 0.1 * torch.randn(N, E, generator=torch.Generator().manual_seed(6))
    experts = torch.tensor([[0, 1]]).repeat(N, 1)
    what = say(en="load_balancing_loss with routing and probabilities both skewed towards experts 0 and 1",
               zh="路由与概率都偏向专家 0 和 1 时的 load_balancing_loss")
    loss = call_loss(impl, logits, experts, E, what)
    want = loss_oracle(logits, experts, E)
    expect_scalar(loss, want, what, atol=1e-5, rtol=1e-5, hint=LOSS, likely=likely_loss_values(logits, experts, E))
    expect(loss.item() > 1.5,
           say(en=f"{what.en} gave {loss.item():.4f}; imbalance must cost more than the balanced value 1.",
               zh=f"{what.zh}得到 {loss.item():.4f}；不均衡的代价必须高于均衡时的值 1。"))


def test_gradient_reaches_the_logits_through_P_only(impl):
    # d loss / d z[n, j] = (E / N) · p[n, j] · (f_j − Σ_e f_e p[n, e]) when f is a constant count.
    g = torch.Generator().manual_seed(7)
    N, E, k = 6, 5, 2
    logits = torch.randn(N, E, generator=g)
    _, experts = route_oracle(logits, k)
    z = logits.clone().requires_grad_(True)
    loss = call_loss(impl, z, experts, E, "load_balancing_loss(logits (6, 5) requiring grad, experts, 5)")
    expect(loss.requires_grad,
           say(en="load_balancing_loss returned a tensor without gradient: P must be computed from the logits with "
                  "differentiable ops (don't detach the softmax).",
               zh="load_balancing_loss 返回的张量没有梯度：P 必须用可导运算从 logits 算出（不要对 softmax 做 detach）。"))
    loss.backward()
    wrong = logits.double().requires_grad_(True)
    likely = tuple((torch.autograd.grad(fn(wrong), wrong)[0].float(), cause)
                   for fn, cause in likely_loss_mistakes(wrong, experts, E))
    p = logits.double().softmax(-1)
    f = torch.zeros(E, dtype=torch.float64).index_add(0, experts.reshape(-1), torch.ones(N * k, dtype=torch.float64))
    f = f / (N * k)
    want = (E / N) * p * (f[None, :] - (p * f).sum(-1, keepdim=True))
    expect_close(z.grad, want.float(), "d load_balancing_loss / d router_logits", atol=1e-6, rtol=1e-4,
                 hint=say(en="The gradient must flow through P = mean softmax only; f is a count of assignments (no "
                             "gradient). Computing f from the router weights or probabilities changes the gradient. "
                             + LOSS.en,
                          zh="梯度只能经过 P = softmax 的均值传递；f 是分配次数的计数（没有梯度）。用路由权重或概率"
                             "来算 f 会改变梯度。" + LOSS.zh),
                 likely=likely)


def test_deterministic_and_inputs_unchanged(impl):
    g = torch.Generator().manual_seed(8)
    logits = torch.randn(4, 5, generator=g)
    before = logits.clone()
    _, experts = expect_deterministic(impl.top_k_routing, logits, 2, what="top_k_routing(logits (4, 5), 2)")
    expect_deterministic(impl.load_balancing_loss, logits, experts, 5, what="load_balancing_loss(logits, experts, 5)")
    expect(torch.equal(before, logits), say(en="top_k_routing or load_balancing_loss modified router_logits in place.",
                                            zh="top_k_routing 或 load_balancing_loss 原地修改了 router_logits。"))
