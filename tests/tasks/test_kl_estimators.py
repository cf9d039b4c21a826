"""kl-estimators: Schulman's k1, k2, k3 of KL(q ‖ p) from samples x ~ q, per sample."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say, usual_cause
from genprep.learner.lang import part

HINT = say(en="With log r = logp − logq (r = p(x)/q(x), samples from q): k1 = −log r, k2 = ½(log r)², "
              "k3 = (r − 1) − log r = exp(log r) − 1 − log r.",
           zh="记 log r = logp − logq（r = p(x)/q(x)，样本来自 q）：k1 = −log r，k2 = ½(log r)²，"
              "k3 = (r − 1) − log r = exp(log r) − 1 − log r。")


def likely_mistakes(logp, logq):
    """{name: ((result, cause), ...)}: what the usual mistakes give for k1, k2, k3."""
    lr = logp.double() - logq.double()
    inverted = say(en="the ratio inverted, log r = logq − logp (the other KL direction's convention); with samples from q, "
                      "r = p(x)/q(x): log r = logp − logq.",
                   zh="比值取反了，log r = logq − logp（这是另一个 KL 方向的约定）；样本来自 q 时 r = p(x)/q(x)："
                      "log r = logp − logq。")
    return {"k1": ((lr.float(), say(en="+log r: the sign is flipped (or the ratio inverted); k1 = −log r = logq − logp, "
                                       "whose mean under q is KL(q ‖ p).",
                                    zh="得到的是 +log r：符号反了（或比值取反了）；k1 = −log r = logq − logp，"
                                       "它在 q 下的均值才是 KL(q ‖ p)。")),),
            "k2": (((lr ** 2).float(), say(en="(log r)² without the factor ½; k2 = ½(log r)².",
                                           zh="(log r)² 漏了系数 ½；k2 = ½(log r)²。")),
                   ((0.5 * (lr.exp() - 1) ** 2).float(),
                    say(en="½(r − 1)², the square of the ratio's deviation; k2 squares the LOG ratio: ½(log r)².",
                        zh="算成了 ½(r − 1)²，即比值偏差的平方；k2 平方的是【对数】比值：½(log r)²。"))),
            "k3": (((lr.exp() - 1 + lr).float(), say(en="(r − 1) + log r, the log term's sign flipped; k3 = (r − 1) − log r.",
                                                     zh="算成了 (r − 1) + log r，log 项符号反了；k3 = (r − 1) − log r。")),
                   (((-lr).exp() - 1 + lr).float(), inverted))}


def oracle(logp, logq):
    lr = logp.double() - logq.double()
    return -lr, 0.5 * lr ** 2, torch.exp(lr) - 1 - lr


def call(impl, logp, logq, what):
    out = impl.kl_estimates(logp, logq)
    n = len(out) if hasattr(out, '__len__') else '?'
    w_en, w_zh = part(what, "en"), part(what, "zh")
    expect(isinstance(out, tuple) and len(out) == 3,
           say(en=f"{w_en} must return a tuple (k1, k2, k3); got {type(out).__name__} of length {n}",
               zh=f"{w_zh} 必须返回元组 (k1, k2, k3)；实际得到长度为 {n} 的 {type(out).__name__}"))
    for name, k in zip(("k1", "k2", "k3"), out):
        expect_tensor(k, say(en=f"{w_en}: {name}", zh=f"{w_zh}：{name}"), shape=tuple(logp.shape), dtype=logp.dtype)
    return out


def gaussian_samples(n, mu_p, sigma_p, seed):
    """x ~ q = N(0, 1); returns log p(x), log q(x) for p = N(mu_p, sigma_p²) and KL(q ‖ p) in closed form."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=torch.float64)
    logq = -0.5 * x ** 2 - 0.5 * math.log(2 * math.pi)
    logp = -0.5 * ((x - mu_p) / sigma_p) ** 2 - math.log(sigma_p) - 0.5 * math.log(2 * math.pi)
    kl = math.log(sigma_p) + (1 + mu_p ** 2) / (2 * sigma_p ** 2) - 0.5  # KL(N(0,1) ‖ N(mu_p, sigma_p²))
    return logp.float(), logq.float(), kl


def test_closed_forms_per_sample(impl):
    g = torch.Generator().manual_seed(0)
    logq = -3 * torch.rand(4, 6, generator=g) - 0.1
    logp = logq + 1.5 * torch.randn(4, 6, generator=g)  # log r of both signs, |log r| up to ~4
    k1, k2, k3 = call(impl, logp, logq, "kl_estimates(logp (4, 6), logq (4, 6))")
    w1, w2, w3 = oracle(logp, logq)
    likely = likely_mistakes(logp, logq)
    expect_close(k1, w1.float(), "kl_estimates: k1", atol=1e-5, rtol=1e-5,
                 hint=say(en="k1 = −log r = logq − logp (an estimate of E_q[log q/p]). Is the sign or the ratio reversed?",
                          zh="k1 = −log r = logq − logp（E_q[log q/p] 的估计）。是不是符号或比值反了？"),
                 likely=likely["k1"])
    expect_close(k2, w2.float(), "kl_estimates: k2", atol=1e-5, rtol=1e-5,
                 hint=say(en="k2 = ½ (log r)² — the factor ½, and the square of the LOG ratio, not of r − 1.",
                          zh="k2 = ½ (log r)²——有系数 ½，平方的是【对数】比值，不是 r − 1。"),
                 likely=likely["k2"])
    expect_close(k3, w3.float(), "kl_estimates: k3", atol=1e-5, rtol=1e-5,
                 hint=say(en="k3 = (r − 1) − log r with r = p(x)/q(x) = exp(logp − logq): MINUS log r.",
                          zh="k3 = (r − 1) − log r，其中 r = p(x)/q(x) = exp(logp − logq)：是【减去】log r。"),
                 likely=likely["k3"])


def test_monte_carlo_means_of_k1_and_k3_match_the_kl(impl):
    # x ~ q = N(0, 1), p = N(0.4, 1.3²): the means of k1 and k3 estimate KL(q ‖ p) without bias.
    logp, logq, kl = gaussian_samples(200_000, 0.4, 1.3, seed=1)
    k1, _, k3 = call(impl, logp, logq, say(en="kl_estimates on 200000 Gaussian samples",
                                            zh="200000 个高斯样本上的 kl_estimates"))
    w1, _, w3 = oracle(logp, logq)
    likely = likely_mistakes(logp, logq)
    for name, k, w in (("k1", k1, w1), ("k3", k3, w3)):
        se = float(w.std()) / math.sqrt(w.numel())  # Monte Carlo standard error of this sample's mean
        mean = float(k.double().mean())
        cause = usual_cause(k, likely[name], say(en="Is the ratio inverted (that estimates something else)?",
                                                 zh="是不是比值取反了（那估计的是别的量）？"))
        expect(abs(mean - kl) < 5 * se + 1e-4,
               say(en=f"the mean of {name} over 200000 samples x ~ q = N(0, 1), with p = N(0.4, 1.3²), is {mean:.5f}; "
                      f"KL(q ‖ p) = {kl:.5f} (standard error {se:.1e}). {name} must estimate KL(q ‖ p) without bias: "
                      f"the samples come from q, and log r = logp − logq. {cause.en}",
                   zh=f"在 200000 个样本 x ~ q = N(0, 1)、p = N(0.4, 1.3²) 上，{name} 的均值为 {mean:.5f}；"
                      f"KL(q ‖ p) = {kl:.5f}（标准误 {se:.1e}）。{name} 必须是 KL(q ‖ p) 的无偏估计："
                      f"样本来自 q，log r = logp − logq。{cause.zh}"))


def test_k3_has_lower_variance_than_k1_for_close_distributions(impl):
    logp, logq, _ = gaussian_samples(20_000, 0.3, 1.0, seed=2)  # var(k3)/var(k1) ≈ 0.05 here
    k1, _, k3 = call(impl, logp, logq, say(en="kl_estimates on 20000 Gaussian samples",
                                            zh="20000 个高斯样本上的 kl_estimates"))
    v1, v3 = float(k1.double().var()), float(k3.double().var())
    cause = usual_cause(k3, likely_mistakes(logp, logq)["k3"], HINT)
    expect(v3 < 0.2 * v1,
           say(en=f"var(k3) = {v3:.3g} and var(k1) = {v1:.3g} on close distributions; k3 = (r − 1) − log r adds the "
                  "zero-mean control variate r − 1 to k1 and should have a far smaller variance. " + cause.en,
               zh=f"两个分布很接近时 var(k3) = {v3:.3g}，var(k1) = {v1:.3g}；k3 = (r − 1) − log r 是在 k1 上加了均值为 0 "
                  "的控制变量 r − 1，方差应小得多。" + cause.zh))


def test_k3_is_non_negative_for_every_sample(impl):
    log_r = torch.tensor([-20.0, -5.0, -1.0, -1e-2, -1e-4, 0.0, 1e-4, 1e-2, 1.0, 5.0, 15.0])
    logq = torch.full_like(log_r, -2.0)
    _, _, k3 = call(impl, logq + log_r, logq, say(en="kl_estimates at log r from −20 to 15",
                                                    zh="log r 从 −20 到 15 时的 kl_estimates"))
    worst = int(k3.argmin())
    likely = likely_mistakes(logq + log_r, logq)["k3"]
    cause = usual_cause(k3, likely, say(en="It is (r − 1) − log r: is the log term's sign or the ratio reversed?",
                                        zh="它是 (r − 1) − log r：是不是 log 项的符号或比值反了？"))
    lr_w, k_w = log_r[worst].item(), k3[worst].item()
    expect(bool((k3 >= -1e-6).all()),
           say(en=f"k3 must be ≥ 0 for every sample (log x ≤ x − 1), but at log r = {lr_w:g} it is {k_w:.4g}. {cause.en}",
               zh=f"k3 对每个样本都必须 ≥ 0（log x ≤ x − 1），但在 log r = {lr_w:g} 处为 {k_w:.4g}。{cause.zh}"))
    expect_close(k3, oracle(logq + log_r, logq)[2].float(), say(en="kl_estimates: k3 at log r from −20 to 15",
                                                                     zh="log r 从 −20 到 15 时 kl_estimates 的 k3"),
                 atol=1e-5, rtol=1e-5, hint=HINT, likely=likely)


def test_works_in_log_space_for_tiny_probabilities(impl):
    # Sequence-level log-probs are in the hundreds below 0: exp(-150) is 0 in float32, so p/q computed from
    # probabilities is 0/0 = NaN, while log r = logp − logq is a harmless number in [−2, 2].
    log_r = torch.tensor([-2.0, -0.5, 0.0, 0.3, 2.0])
    logq = torch.tensor([-150.0, -300.0, -120.0, -200.0, -110.0])
    logp = logq + log_r
    k1, k2, k3 = call(impl, logp, logq, say(en="kl_estimates with log-probabilities between −300 and −110",
                                               zh="对数概率在 −300 到 −110 之间时的 kl_estimates"))
    likely = likely_mistakes(logp, logq)
    for name, k, w in zip(("k1", "k2", "k3"), (k1, k2, k3), oracle(logp, logq)):
        expect(bool(torch.isfinite(k).all()),
               say(en=f"kl_estimates returned {name} = {k.tolist()} for log-probabilities around −150; exp(−150) "
                      "underflows to 0 in float32, so p(x)/q(x) formed from probabilities is 0/0. Work in log space: "
                      "log r = logp − logq, and r = exp(log r).",
                   zh=f"对数概率在 −150 附近时 kl_estimates 返回了 {name} = {k.tolist()}；float32 下 exp(−150) 下溢为 0，"
                      "用概率算出的 p(x)/q(x) 就是 0/0。要在对数空间里算：log r = logp − logq，r = exp(log r)。"))
        expect_close(k, w.float(), say(en=f"kl_estimates: {name} for log-probabilities around −150",
                                      zh=f"对数概率在 −150 附近时 kl_estimates 的 {name}"), atol=1e-4, rtol=1e-4,
                     hint=say(en="Form log r = logp − logq first (the difference is small even when both are huge), "
                                 "never exp(logp) / exp(logq). " + HINT.en,
                              zh="先算 log r = logp − logq（即使两者都很大，差也很小），绝不要算 exp(logp) / exp(logq)。"
                                 + HINT.zh),
                     likely=likely[name])


def test_k2_is_biased_for_distant_distributions(impl):
    # p = N(Δ, 1), q = N(0, 1): log r = Δx − Δ²/2, KL = Δ²/2 but E[k2] = ½(Δ² + Δ⁴/4).
    for delta in (0.1, 2.0):
        logp, logq, kl = gaussian_samples(100_000, delta, 1.0, seed=3)
        _, k2, _ = call(impl, logp, logq, say(en=f"kl_estimates with p = N({delta}, 1), q = N(0, 1)",
                                                 zh=f"p = N({delta}, 1)、q = N(0, 1) 时的 kl_estimates"))
        want = 0.5 * (delta ** 2 + delta ** 4 / 4)
        w2 = oracle(logp, logq)[1]
        se = float(w2.std()) / math.sqrt(w2.numel())
        mean = float(k2.double().mean())
        cause = usual_cause(k2, likely_mistakes(logp, logq)["k2"],
                            say(en="k2 must be that biased estimator, not another unbiased one.",
                                zh="k2 必须就是这个有偏估计，而不是另一个无偏估计。"))
        expect(abs(mean - want) < 5 * se + 1e-5,
               say(en=f"the mean of k2 with p = N({delta}, 1), q = N(0, 1) is {mean:.5f}; E[½(log r)²] = {want:.5f} "
                      f"(KL = {kl:.5f}). k2 = ½(log r)² is close to the KL only when p ≈ q; for Δ = 2 it is about "
                      f"twice the KL. {cause.en}",
                   zh=f"p = N({delta}, 1)、q = N(0, 1) 时 k2 的均值为 {mean:.5f}；E[½(log r)²] = {want:.5f}"
                      f"（KL = {kl:.5f}）。k2 = ½(log r)² 只在 p ≈ q 时接近 KL；Δ = 2 时约为 KL 的两倍。{cause.zh}"))


def test_returns_inputs_shape_dtype_and_is_deterministic(impl):
    g = torch.Generator().manual_seed(4)
    logq, logp = -torch.rand(2, 3, 5, generator=g), -torch.rand(2, 3, 5, generator=g)
    out = expect_deterministic(impl.kl_estimates, logp, logq, what="kl_estimates")
    call(impl, logp, logq, "kl_estimates(logp (2, 3, 5), logq (2, 3, 5))")
    likely = likely_mistakes(logp, logq)
    for name, k, w in zip(("k1", "k2", "k3"), out, oracle(logp, logq)):
        expect_close(k, w.float(), f"kl_estimates: {name} on (2, 3, 5)", atol=1e-5, rtol=1e-5, hint=HINT,
                     likely=likely[name])


@given(st.lists(st.integers(1, 5), min_size=1, max_size=2), st.floats(0.1, 3.0), st.integers(0, 2**16))
def test_property_any_shape(impl, shape, scale, seed):
    g = torch.Generator().manual_seed(seed)
    logq = -3 * torch.rand(*shape, generator=g)
    logp = logq + scale * torch.randn(*shape, generator=g)
    likely = likely_mistakes(logp, logq)
    for name, k, w in zip(("k1", "k2", "k3"), call(impl, logp, logq, f"kl_estimates on shape {tuple(shape)}"),
                          oracle(logp, logq)):
        expect_close(k, w.float(), f"kl_estimates: {name} on shape {tuple(shape)}", atol=1e-5, rtol=1e-4, hint=HINT,
                     likely=likely[name])
