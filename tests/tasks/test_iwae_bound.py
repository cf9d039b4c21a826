"""iwae-bound: log((1/K) Σ_k exp(log p(x, z_k) − log q(z_k | x))) per example, computed stably.

Oracles: the float64 closed form (max-shifted by hand), the single-sample ELBO, Jensen's inequality, the gradient
(the normalized importance weights), and a Monte Carlo check on a model with a known log p(x).
"""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged, say

HINT = say(en="With log w = log_p_xz − log_q_zx (B, K): L = logsumexp(log w, dim=-1) − log K, one value per example "
              "(B,). Average the weights over the K samples (dim=-1), not over the batch.",
           zh="记 log w = log_p_xz − log_q_zx（形状 (B, K)）：L = logsumexp(log w, dim=-1) − log K，每个样本一个值"
              "（形状 (B,)）。要在 K 个采样（dim=-1）上对权重求平均，而不是在 batch 上。")
STABLE_HINT = say(en="Never exponentiate raw log-weights: exp(−1e4) is 0 in float32 (log 0 = −inf) and exp(100) is inf. "
                     "Shift by each ROW's own max, m + log(mean(exp(log w − m))), or use torch.logsumexp(…, dim=-1) − "
                     "log K.",
                  zh="绝不要直接对原始的对数权重取 exp：float32 下 exp(−1e4) 为 0（log 0 = −inf），exp(100) 为 inf。"
                     "要减去【每一行】自己的最大值，m + log(mean(exp(log w − m)))，或者用 torch.logsumexp(…, dim=-1) − "
                     "log K。")
MEAN_OF_LOGS = say(en="the mean of the log-weights, (1/K) Σ_k log w_k — a K-sample estimate of the ordinary ELBO; average "
                      "the weights first, then take the log: logsumexp(log w, dim=-1) − log K.",
                   zh="对对数权重求了均值 (1/K) Σ_k log w_k——这只是普通 ELBO 的 K 样本估计；应先对权重求平均再取 log："
                      "logsumexp(log w, dim=-1) − log K。")
PLUS_LOG_K = say(en="logsumexp(log w) without the 1/K, log Σ_k w_k — too large by log K; subtract math.log(K).",
                 zh="算成了没有 1/K 的 logsumexp(log w)，即 log Σ_k w_k——多了 log K；要减去 math.log(K)。")


def likely_iwae_mistakes(log_p, log_q):
    log_w = log_p.double() - log_q.double()
    w32 = log_p - log_q  # in float32, as the mistake is usually made: what underflows there matters
    m = w32.max()  # one max for the whole batch
    global_shift = m + (w32 - m).exp().sum(-1).log() - math.log(log_w.size(-1))
    return ((log_w.mean(-1).float(), MEAN_OF_LOGS), (torch.logsumexp(log_w, dim=-1).float(), PLUS_LOG_K),
            (global_shift, say(en="a shift by the max of the WHOLE batch; an example far below it underflows — shift "
                                  "each row by its own max (amax(dim=-1, keepdim=True)).",
                               zh="减去的是【整个 batch】的最大值；远低于它的样本会下溢——每一行要减去自己的最大值"
                                  "（amax(dim=-1, keepdim=True)）。")))


def oracle(log_p, log_q):
    """(B,) float64: m + log(Σ exp(log w − m)) − log K, written out."""
    log_w = log_p.double() - log_q.double()
    m = log_w.max(dim=-1, keepdim=True).values
    return (m.squeeze(-1) + (log_w - m).exp().sum(-1).log() - math.log(log_w.size(-1)))


def tol(*tensors):
    """Absolute tolerance: float32 rounds a log-weight of size M by up to eps·M/2 (about 6e-4 at M = 1e4)."""
    big = max(float(t.abs().max()) for t in tensors)
    return 1e-5 + 4 * torch.finfo(torch.float32).eps * big


def call(impl, log_p, log_q):
    B, K = log_p.shape
    what = say(en=f"iwae_bound(log_p_xz, log_q_zx) for B={B} examples and K={K} samples",
               zh=f"B={B} 个样本、K={K} 个采样时的 iwae_bound(log_p_xz, log_q_zx)")
    out = impl.iwae_bound(log_p, log_q)
    expect(not (isinstance(out, torch.Tensor) and out.dim() == 0 and B > 1),
           say(en=f"{what.en} returned one number; return the bound of each example, shape ({B},) — do not average "
                  "over the batch (that is the training loss, not the bound).",
               zh=f"{what.zh}只返回了一个数；应返回每个样本各自的下界，形状为 ({B},)——不要在 batch 上求平均"
                  "（那是训练损失，不是下界）。"))
    expect_tensor(out, what, shape=(B,), dtype=torch.float32)
    return out, what


def test_matches_the_closed_form(impl):
    g = torch.Generator().manual_seed(0)
    log_p = -20 + 3 * torch.randn(4, 6, generator=g)
    log_q = -5 + torch.randn(4, 6, generator=g)
    before = (log_p.clone(), log_q.clone())
    out, what = call(impl, log_p, log_q)
    expect_unchanged(before[0], log_p, "log_p_xz")
    expect_unchanged(before[1], log_q, "log_q_zx")
    expect_close(out, oracle(log_p, log_q).float(), what, atol=tol(log_p, log_q), rtol=0.0, hint=HINT,
                 likely=likely_iwae_mistakes(log_p, log_q))


def test_one_sample_is_the_elbo(impl):
    g = torch.Generator().manual_seed(1)
    log_p, log_q = -30 + 5 * torch.randn(5, 1, generator=g), -3 + torch.randn(5, 1, generator=g)
    out, what = call(impl, log_p, log_q)
    expect_close(out, (log_p - log_q).squeeze(-1).double().float(), say(en=f"{what.en} (K = 1)", zh=f"{what.zh}（K = 1）"),
                 atol=tol(log_p, log_q), rtol=0.0,
                 hint=say(en="With K = 1 the bound is the single-sample ELBO log p(x, z) − log q(z | x): "
                             "log((1/1)·w) = log w. " + HINT.en,
                          zh="K = 1 时下界就是单样本 ELBO log p(x, z) − log q(z | x)：log((1/1)·w) = log w。" + HINT.zh))


def test_identical_weights_give_that_weight_not_plus_log_k(impl):
    # All K log-weights equal c: the mean of the weights is e^c, so L = c exactly — a plain logsumexp gives c + log K.
    log_q = torch.zeros(3, 8)
    log_p = torch.tensor([[-2.0], [0.5], [-40.0]]).expand(3, 8).clone()
    out, what = call(impl, log_p, log_q)
    expect_close(out, torch.tensor([-2.0, 0.5, -40.0]),
                 say(en=f"{what.en}, all log-weights of a row equal", zh=f"每行对数权重全都相等时{what.zh}"),
                 atol=1e-5, rtol=0.0,
                 hint=say(en="The bound averages the weights: log((1/K) Σ_k w_k). torch.logsumexp alone is log Σ_k w_k, "
                             "which is too large by log K (here log 8 ≈ 2.08): subtract math.log(K).",
                          zh="下界是对权重求平均：log((1/K) Σ_k w_k)。只用 torch.logsumexp 得到的是 log Σ_k w_k，"
                             "多了 log K（这里 log 8 ≈ 2.08）：要减去 math.log(K)。"),
                 likely=likely_iwae_mistakes(log_p, log_q))


def test_at_least_the_mean_of_the_elbo_terms(impl):
    # Jensen: log mean_k w_k ≥ mean_k log w_k, strictly when the weights differ.
    g = torch.Generator().manual_seed(2)
    log_p, log_q = 4 * torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    out, what = call(impl, log_p, log_q)
    mean_elbo = (log_p.double() - log_q.double()).mean(-1)
    gap = out.double() - mean_elbo
    expect(bool((gap > 0.1).all()),
           say(en=f"{what.en}: the bound minus the mean of the K single-sample ELBO terms is {gap.tolist()}; it must be "
                  "positive (Jensen: log of the mean ≥ mean of the logs, here by at least 0.1). Averaging log w over "
                  "the samples is just a K-sample estimate of the ELBO, not the IWAE bound: average the weights, then "
                  "take the log.",
               zh=f"{what.zh}：下界减去 K 个单样本 ELBO 项的均值得到 {gap.tolist()}；它必须为正"
                  "（Jensen 不等式：均值的 log ≥ log 的均值，这里至少大 0.1）。对 log w 在采样上求平均只是 ELBO 的 "
                  "K 样本估计，不是 IWAE 下界：要先对权重求平均，再取 log。"))
    expect_close(out, oracle(log_p, log_q).float(), what, atol=tol(log_p, log_q), rtol=0.0, hint=HINT,
                 likely=likely_iwae_mistakes(log_p, log_q))


def test_stable_for_log_weights_around_minus_1e4_and_large_positive(impl):
    # Realistic log-densities of high-dimensional data are around −1e4; narrow densities make log w large too.
    g = torch.Generator().manual_seed(3)
    offsets = torch.tensor([[-1e4], [0.0], [-3e3], [500.0]])
    log_p = offsets + 3 * torch.randn(4, 5, generator=g)
    log_q = torch.randn(4, 5, generator=g)
    out, what = call(impl, log_p, log_q)
    expect(bool(torch.isfinite(out).all()),
           say(en=f"{what.en} with log-weights around −1e4, 0, −3e3 and +500 returned {out.tolist()}. {STABLE_HINT.en}",
               zh=f"对数权重在 −1e4、0、−3e3 和 +500 附近时{what.zh}返回了 {out.tolist()}。{STABLE_HINT.zh}"))
    expect_close(out, oracle(log_p, log_q).float(),
                 say(en=f"{what.en}, log-weights around −1e4, 0, −3e3, +500", zh=f"对数权重在 −1e4、0、−3e3、+500 附近时{what.zh}"),
                 atol=tol(log_p, log_q), rtol=0.0, hint=STABLE_HINT, likely=likely_iwae_mistakes(log_p, log_q))


def test_gradient_is_the_normalized_importance_weights(impl):
    # ∂L/∂log p(x, z_k) = w_k / Σ_j w_j = softmax(log w)_k, and ∂L/∂log q = −that: the bound must stay differentiable.
    g = torch.Generator().manual_seed(4)
    log_p = (2 * torch.randn(3, 4, generator=g)).requires_grad_()
    log_q = torch.randn(3, 4, generator=g).requires_grad_()
    out, what = call(impl, log_p, log_q)
    expect(out.requires_grad,
           say(en=f"{what.en} is not differentiable (no grad_fn): keep the computation in torch, no .item(), .detach() "
                  "or numpy on the path.",
               zh=f"{what.zh}不可导（没有 grad_fn）：整个计算都要用 torch 完成，路径上不要有 .item()、.detach() 或 numpy。"))
    out.sum().backward()
    want = torch.softmax(log_p.detach().double() - log_q.detach().double(), dim=-1).float()
    K = log_p.size(-1)
    mean_grad = say(en="1/K for every sample, the gradient of the mean of log w (the ELBO estimate); the bound's "
                       "gradient is the normalized weights, softmax(log w).",
                    zh="每个采样的梯度都是 1/K，这是 log w 均值（ELBO 估计）的梯度；下界的梯度应是归一化权重 "
                       "softmax(log w)。")
    expect_close(log_p.grad, want, say(en=f"the gradient of {what.en}.sum() with respect to log_p_xz",
                                       zh=f"{what.zh}.sum() 对 log_p_xz 的梯度"), atol=1e-6, rtol=1e-5,
                 hint=say(en="The gradient of log mean_k w_k with respect to log w_k is the normalized weight "
                             "w_k / Σ_j w_j. Detaching a max shift is fine; detaching anything else is not.",
                          zh="log mean_k w_k 对 log w_k 的梯度是归一化权重 w_k / Σ_j w_j。对最大值平移量 detach "
                             "没问题，对其他任何东西 detach 都不行。"),
                 likely=((torch.full_like(want, 1 / K), mean_grad),))
    expect_close(log_q.grad, -want, say(en=f"the gradient of {what.en}.sum() with respect to log_q_zx",
                                        zh=f"{what.zh}.sum() 对 log_q_zx 的梯度"), atol=1e-6, rtol=1e-5,
                 hint=say(en="log w = log p − log q, so the gradient with respect to log q is minus the normalized "
                             "weights.",
                          zh="log w = log p − log q，所以对 log q 的梯度是归一化权重的相反数。"))


def test_monte_carlo_tightens_with_k_towards_log_p_x(impl):
    # z ~ N(0, 1), x | z ~ N(z, 1) and the prior as proposal: log w = log N(x; z, 1), log p(x) = log N(x; 0, 2).
    g = torch.Generator().manual_seed(5)
    x, R = 2.0, 4000
    z = torch.randn(R, 64, generator=g, dtype=torch.float64)
    log_p = (-0.5 * math.log(2 * math.pi) - 0.5 * (x - z) ** 2 - 0.5 * math.log(2 * math.pi) - 0.5 * z ** 2).float()
    log_q = (-0.5 * math.log(2 * math.pi) - 0.5 * z ** 2).float()
    log_px = -0.5 * math.log(4 * math.pi) - x * x / 4  # ≈ −2.2655
    means = {}
    for K in (1, 4, 16, 64):
        out, _ = call(impl, log_p[:, :K].contiguous(), log_q[:, :K].contiguous())
        means[K] = out.double().mean().item()
    shown = ", ".join(f"K={K}: {v:.4f}" for K, v in means.items())
    flat = max(means.values()) - min(means.values()) < 0.1
    cause = say(en="Your bound does not grow with K: " + MEAN_OF_LOGS.en, zh="你的下界不随 K 增大：" + MEAN_OF_LOGS.zh) \
        if flat else say(en="It exceeds log p(x) for large K: " + PLUS_LOG_K.en, zh="K 大时超过了 log p(x)：" + PLUS_LOG_K.zh) \
        if means[64] > log_px + 0.01 else HINT
    expect(means[1] < means[4] < means[16] < means[64] <= log_px + 0.01,
           say(en=f"averaged over {R} draws, the bound is {shown}; it must increase with K and stay below "
                  f"log p(x) = {log_px:.4f} (IWAE: L_1 ≤ L_K ≤ L_{{K+1}} ≤ log p(x)). {cause.en}",
               zh=f"在 {R} 次抽样上平均，下界为 {shown}；它必须随 K 增大，并且不超过 "
                  f"log p(x) = {log_px:.4f}（IWAE：L_1 ≤ L_K ≤ L_{{K+1}} ≤ log p(x)）。{cause.zh}"))
    # standard errors over R = 4000 draws: ≈ 0.034 for K = 1 (Var log w = 4.5), far less for K = 64
    expect(abs(means[64] - log_px) < 0.05 and abs(means[1] - (-3.4189)) < 0.15,
           say(en=f"averaged over {R} draws: {shown}; expected K=1 near the ELBO −3.419 and K=64 within 0.05 of "
                  f"log p(x) = {log_px:.4f}. {HINT.en}",
               zh=f"在 {R} 次抽样上平均：{shown}；K=1 应接近 ELBO −3.419，K=64 应在 "
                  f"log p(x) = {log_px:.4f} 的 0.05 以内。{HINT.zh}"))


def test_deterministic(impl):
    log_p, log_q = torch.randn(2, 3), torch.randn(2, 3)
    expect_deterministic(impl.iwae_bound, log_p, log_q, what="iwae_bound(log_p_xz, log_q_zx)")


@given(st.integers(1, 5), st.integers(1, 6), st.sampled_from([1.0, 10.0, 100.0]), st.sampled_from([0.0, -1e3]),
       st.integers(0, 2**16))
def test_property_any_batch_and_sample_count(impl, B, K, scale, offset, seed):
    g = torch.Generator().manual_seed(seed)
    log_p = offset + scale * torch.randn(B, K, generator=g)
    log_q = torch.randn(B, K, generator=g)
    out, what = call(impl, log_p, log_q)
    expect_close(out, oracle(log_p, log_q).float(), what, atol=tol(log_p, log_q), rtol=0.0,
                 hint=HINT if bool(torch.isfinite(out).all()) else STABLE_HINT, likely=likely_iwae_mistakes(log_p, log_q))
