"""vq-vae-quantizer: nearest code by squared distance, straight-through z_q, codebook + β·commitment loss.

Oracles: brute-force nearest codes in float64 (compared only where the nearest code wins by a clear margin, so
that correct implementations may round differently), the closed-form loss, and closed-form gradients:
∂loss/∂e_k = Σ_{n: idx_n = k} 2(e_k − z_e,n)/M from the codebook term only, ∂loss/∂z_e = β·2(z_e − e)/M,
M = B·N·D, and ∂z_q/∂z_e = identity.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor, expect_unchanged, say

NEAREST_HINT = say(en="indices = argmin_k ‖z_e − e_k‖² (squared Euclidean distance, e.g. torch.cdist(...).argmin(-1) or "
                      "‖z‖² − 2 z·e_k + ‖e_k‖²), not argmax of the dot product z·e_k, which ignores the codes' norms.",
                   zh="indices = argmin_k ‖z_e − e_k‖²（欧氏距离的平方，例如 torch.cdist(...).argmin(-1) 或 "
                      "‖z‖² − 2 z·e_k + ‖e_k‖²），而不是点积 z·e_k 的 argmax——那会忽略码字的范数。")
ST_HINT = say(en="Straight-through: z_q = z_e + (e − z_e).detach() — its value is the code e, its gradient with respect "
                 "to z_e is the identity, and it sends no gradient into the codebook.",
              zh="直通估计：z_q = z_e + (e − z_e).detach()——它的值是码字 e，对 z_e 的梯度是恒等映射，"
                 "并且不向码本传梯度。")
LOSS_HINT = say(en="loss = F.mse_loss(e, z_e.detach()) + beta · F.mse_loss(z_e, e.detach()): both means run over all "
                   "B·N·D elements; the detach on z_e makes the first term train only the codebook, the detach on e "
                   "makes the commitment term (scaled by beta) train only the encoder.",
                zh="loss = F.mse_loss(e, z_e.detach()) + beta · F.mse_loss(z_e, e.detach())：两个均值都在全部 B·N·D 个"
                   "元素上求；对 z_e 的 detach 让第一项只训练码本，对 e 的 detach 让承诺项（乘以 beta）只训练编码器。")
BETA_ON_CODEBOOK = say(en="beta is on the codebook term; it scales the COMMITMENT term: mean((sg[z_e] − e)²) + "
                          "beta·mean((z_e − sg[e])²).",
                       zh="beta 放在了码本项上；它应缩放承诺项：mean((sg[z_e] − e)²) + beta·mean((z_e − sg[e])²)。")
NO_STOP_GRAD = say(en="the loss has no stop-gradients, (1 + beta)·mean((z_e − e)²); detach z_e in the codebook term "
                      "and e in the commitment term.",
                   zh="损失里没有停止梯度，(1 + beta)·mean((z_e − e)²)；码本项里要 detach z_e，承诺项里要 detach e。")


def brute_force(z_e, codebook):
    """Squared distances (B, N, K) in float64 by a loop over codes; nearest index; a mask of clear winners."""
    z = z_e.double()
    dist = torch.stack([((z - c.double()) ** 2).sum(-1) for c in codebook], dim=-1)
    top2 = dist.topk(2, dim=-1, largest=False).values if codebook.size(0) > 1 else None
    clear = torch.ones(dist.shape[:-1], dtype=torch.bool) if top2 is None else \
        (top2[..., 1] - top2[..., 0]) > 1e-3 * (1 + top2[..., 0])
    return dist, dist.argmin(-1), clear


def well_separated(seed, B=3, N=5, K=8, D=4):
    """Codes with very different norms and encoder outputs near (not at) them: every nearest code wins clearly."""
    g = torch.Generator().manual_seed(seed)
    codebook = torch.randn(K, D, generator=g) * torch.linspace(0.5, 3.0, K)[:, None]
    pick = torch.randint(0, K, (B, N), generator=g)
    z_e = codebook[pick] + 0.2 * torch.randn(B, N, D, generator=g)
    _, _, clear = brute_force(z_e, codebook)
    assert bool(clear.all()), "test data must have clear nearest codes"
    return z_e, codebook


def call(impl, z_e, codebook, beta=None):
    B, N, D = z_e.shape
    what = f"vector_quantize(z_e {tuple(z_e.shape)}, codebook {tuple(codebook.shape)}" + (
        ")" if beta is None else f", beta={beta})")
    result = impl.vector_quantize(z_e, codebook) if beta is None else impl.vector_quantize(z_e, codebook, beta)
    expect(isinstance(result, tuple) and len(result) == 3,
           say(en=f"{what} should return a tuple (z_q, indices, loss), got {type(result).__name__}",
               zh=f"{what} 应返回元组 (z_q, indices, loss)，实际得到 {type(result).__name__}"))
    z_q, indices, loss = result
    expect_tensor(z_q, f"{what}: z_q", shape=(B, N, D), dtype=z_e.dtype)
    expect_tensor(indices, f"{what}: indices", shape=(B, N))
    expect(not indices.is_floating_point() and indices.dtype != torch.bool,
           say(en=f"{what}: indices have dtype {indices.dtype}; return an integer tensor (e.g. int64 from argmin) so "
                  "that codebook[indices] works.",
               zh=f"{what}：indices 的 dtype 是 {indices.dtype}；要返回整数张量（例如 argmin 得到的 int64），"
                  "这样 codebook[indices] 才能用。"))
    expect_tensor(loss, f"{what}: loss", shape=(), dtype=z_e.dtype)
    return z_q, indices, loss, what


def test_indices_are_the_nearest_codes(impl):
    z_e, codebook = well_separated(0)
    before = (z_e.clone(), codebook.clone())
    z_q, indices, _, what = call(impl, z_e, codebook)
    expect_unchanged(before[0], z_e, "z_e")
    expect_unchanged(before[1], codebook, say(en="the codebook", zh="码本"))
    dist, want, _ = brute_force(z_e, codebook)
    dot = (z_e.double() @ codebook.double().t()).argmax(-1)
    assert (dot != want).any()  # the codes' norms differ: a dot-product search picks other codes here
    wrong = int((indices.long() != want).sum())
    expect(wrong == 0,
           say(en=f"{what}: {wrong} of {want.numel()} indices are not the nearest code; got {indices.tolist()}, "
                  f"expected {want.tolist()}. ",
               zh=f"{what}：{want.numel()} 个索引中有 {wrong} 个不是最近的码字；实际是 {indices.tolist()}，"
                  f"应为 {want.tolist()}。") + NEAREST_HINT)


def test_z_q_values_are_the_chosen_codes(impl):
    z_e, codebook = well_separated(1)
    z_q, indices, _, what = call(impl, z_e, codebook)
    _, want, _ = brute_force(z_e, codebook)
    expect_close(z_q, codebook[want], f"{what}: z_q", atol=1e-5, rtol=1e-5,
                 hint=say(en="In value, z_q is the nearest code codebook[indices] — not z_e and not a mix. ",
                          zh="在数值上 z_q 是最近的码字 codebook[indices]——不是 z_e，也不是两者的混合。") + ST_HINT,
                 likely=((z_e, say(en="z_q has the value of z_e: the straight-through trick is written backwards, "
                                      "e + (z_e − e).detach(); write z_e + (e − z_e).detach().",
                                   zh="z_q 的值等于 z_e：直通技巧写反了，成了 e + (z_e − e).detach()；"
                                      "应写成 z_e + (e − z_e).detach()。")),))


def test_z_q_passes_gradients_straight_through_to_z_e(impl):
    z_e, codebook = well_separated(2)
    z_e.requires_grad_()
    codebook.requires_grad_()
    w = torch.randn(z_e.shape, generator=torch.Generator().manual_seed(20))
    z_q, _, _, what = call(impl, z_e, codebook)
    expect(z_q.requires_grad, say(en=f"{what}: z_q carries no gradient (no grad_fn), so the encoder never learns from "
                                     "the decoder. ",
                                  zh=f"{what}：z_q 不带梯度（没有 grad_fn），于是编码器永远学不到解码器的信号。") + ST_HINT)
    (z_q * w).sum().backward()
    expect(z_e.grad is not None,
           say(en=f"the gradient of ({what}: z_q · w).sum() does not reach z_e — returning the codes themselves "
                  "(z_q = e) cuts it off. ",
               zh=f"({what}: z_q · w).sum() 的梯度没有传到 z_e——直接返回码字本身（z_q = e）会把它切断。") + ST_HINT)
    expect_close(z_e.grad, w, say(en=f"the gradient of ({what}: z_q · w).sum() with respect to z_e",
                                  zh=f"({what}: z_q · w).sum() 对 z_e 的梯度"), atol=1e-6, rtol=1e-6,
                 hint=say(en="∂z_q/∂z_e must be the identity: the decoder's gradient is copied unchanged to the encoder. ",
                          zh="∂z_q/∂z_e 必须是恒等映射：解码器的梯度原样复制给编码器。") + ST_HINT)
    leaked = 0.0 if codebook.grad is None else float(codebook.grad.abs().max())
    expect(leaked == 0.0,
           say(en=f"the gradient of ({what}: z_q · w).sum() reaches the codebook (max |grad| = {leaked:.3g}); z_q must "
                  "send its gradient to z_e only — the codebook learns from the codebook loss. ",
               zh=f"({what}: z_q · w).sum() 的梯度传到了码本（最大 |grad| = {leaked:.3g}）；z_q 只能把梯度传给 z_e"
                  "——码本通过码本损失来学习。") + ST_HINT)


def test_loss_value_is_one_plus_beta_times_the_mean_squared_error(impl):
    # In value both terms equal mean((z_e − e)²); the stop-gradients only change where the gradients go.
    z_e, codebook = well_separated(3)
    _, want, _ = brute_force(z_e, codebook)
    mse = ((z_e.double() - codebook.double()[want]) ** 2).mean()
    for beta in (None, 1.0, 0.0, 2.5):
        _, _, loss, what = call(impl, z_e, codebook, beta)
        b = 0.25 if beta is None else beta
        D = z_e.size(-1)
        expect_scalar(loss, (1 + b) * mse, f"{what}: loss", atol=1e-7, rtol=1e-5,
                      hint=say(en=f"The loss equals (1 + beta)·mean((z_e − e)²) in value (beta = {b}, default 0.25): "
                                  "each mean over all B·N·D elements, not a sum and not a mean of per-vector squared "
                                  "norms. ",
                               zh=f"损失在数值上等于 (1 + beta)·mean((z_e − e)²)（beta = {b}，默认 0.25）：每个均值都在"
                                  "全部 B·N·D 个元素上求，不是求和，也不是对每个向量的平方范数求平均。") + LOSS_HINT,
                      likely=(((1 + b) * mse * D,
                               say(en="the squared norms ‖z_e − e‖² are averaged over the B·N vectors (a sum over D); "
                                      "take the mean over all B·N·D elements (F.mse_loss).",
                                   zh="对 B·N 个向量的平方范数 ‖z_e − e‖² 求了平均（在 D 上求和）；应在全部 B·N·D 个"
                                      "元素上求均值（F.mse_loss）。")),))


def test_gradients_of_the_loss_go_to_the_right_side(impl):
    B, N, D = 2, 6, 3
    g = torch.Generator().manual_seed(4)
    K = 5
    codebook0 = torch.randn(K, D, generator=g) * torch.linspace(0.5, 2.5, K)[:, None]
    pick = torch.tensor([[0, 1, 1, 3, 4, 4], [3, 0, 0, 0, 1, 3]])  # code 2 unused
    z_e0 = codebook0[pick] + 0.2 * torch.randn(B, N, D, generator=g)
    _, want, clear = brute_force(z_e0, codebook0)
    assert bool(clear.all())
    M = B * N * D
    e = codebook0.double()[want]
    want_z = 2 * (z_e0.double() - e) / M  # ∂ mean((z_e − sg[e])²) / ∂z_e, times beta below
    want_c = torch.zeros(K, D, dtype=torch.float64).index_add_(
        0, want.reshape(-1), (2 * (e - z_e0.double()) / M).reshape(-1, D))  # ∂ mean((sg[z_e] − e)²) / ∂codebook
    for beta in (0.25, 2.0):
        z_e, codebook = z_e0.clone().requires_grad_(), codebook0.clone().requires_grad_()
        _, _, loss, what = call(impl, z_e, codebook, beta)
        expect(loss.requires_grad, say(en=f"{what}: the loss carries no gradient (no grad_fn). ",
                                       zh=f"{what}：损失不带梯度（没有 grad_fn）。") + LOSS_HINT)
        loss.backward()
        expect(codebook.grad is not None, say(en=f"{what}: the loss sends no gradient to the codebook. ",
                                              zh=f"{what}：损失没有向码本传梯度。") + LOSS_HINT)
        expect_close(codebook.grad, want_c.float(), f"{what}: ∂loss/∂codebook", atol=1e-6, rtol=1e-4,
                     hint=say(en="The codebook's gradient comes from the codebook term mean((sg[z_e] − e)²) ONLY, "
                                 "unscaled by beta; the commitment term must not reach the codebook (detach e there), "
                                 "and unused codes get 0. ",
                              zh="码本的梯度只来自码本项 mean((sg[z_e] − e)²)，不乘 beta；承诺项不能传到码本"
                                 "（那里要 detach e），没有用到的码字梯度为 0。") + LOSS_HINT,
                     likely=(((beta * want_c).float(), BETA_ON_CODEBOOK), (((1 + beta) * want_c).float(), NO_STOP_GRAD)))
        expect(z_e.grad is not None, say(en=f"{what}: the loss sends no gradient to z_e (the commitment term). ",
                                         zh=f"{what}：损失没有向 z_e 传梯度（承诺项）。") + LOSS_HINT)
        expect_close(z_e.grad, (beta * want_z).float(), f"{what}: ∂loss/∂z_e", atol=1e-6, rtol=1e-4,
                     hint=say(en=f"The encoder's gradient is beta·2(z_e − e)/M from the commitment term only (beta = "
                                 f"{beta}); the codebook term must not reach z_e (detach z_e there). ",
                              zh=f"编码器的梯度是只来自承诺项的 beta·2(z_e − e)/M（beta = {beta}）；码本项不能传到 z_e"
                                 "（那里要 detach z_e）。") + LOSS_HINT,
                     likely=((want_z.float(), BETA_ON_CODEBOOK), (((1 + beta) * want_z).float(), NO_STOP_GRAD)))


def test_deterministic(impl):
    z_e, codebook = well_separated(5, B=2, N=3, K=4, D=2)
    expect_deterministic(impl.vector_quantize, z_e, codebook, what="vector_quantize(z_e, codebook)")


@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**16))
def test_property_any_shape(impl, B, N, K, D, seed):
    g = torch.Generator().manual_seed(seed)
    z_e, codebook = torch.randn(B, N, D, generator=g), torch.randn(K, D, generator=g)
    z_q, indices, loss, what = call(impl, z_e, codebook)
    _, want, clear = brute_force(z_e, codebook)
    idx = indices.long()
    wrong = int(((idx != want) & clear).sum())
    expect(wrong == 0, say(en=f"{what}: {wrong} indices are not the nearest code (got {indices.tolist()}, expected "
                              f"{want.tolist()}). ",
                           zh=f"{what}：有 {wrong} 个索引不是最近的码字（实际是 {indices.tolist()}，应为 "
                              f"{want.tolist()}）。") + NEAREST_HINT)
    chosen = codebook.double()[idx.clamp(0, K - 1)]
    expect_close(z_q, chosen.float(), f"{what}: z_q against codebook[indices]", atol=1e-5, rtol=1e-5, hint=ST_HINT)
    mse = ((z_e.double() - chosen) ** 2).mean()
    expect_scalar(loss, 1.25 * mse, f"{what}: loss", atol=1e-6, rtol=1e-4, hint=LOSS_HINT,
                  likely=((1.25 * mse * D, say(en="the squared norms ‖z_e − e‖² are averaged over the B·N vectors (a sum "
                                                  "over D); take the mean over all B·N·D elements (F.mse_loss).",
                                               zh="对 B·N 个向量的平方范数 ‖z_e − e‖² 求了平均（在 D 上求和）；应在全部 "
                                                  "B·N·D 个元素上求均值（F.mse_loss）。")),) if D > 1 else ())
