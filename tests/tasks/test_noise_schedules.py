"""noise-schedules: the cosine ᾱ schedule (t = 1…T, betas clipped at 0.999) and the zero-terminal-SNR rescale.

Oracles: the formulas written out with Python floats (math.cos, running products) in double precision; algebraic
properties (ᾱ_T = 0, first √ᾱ kept, √ᾱ' affine in √ᾱ) checked on the schedule the betas imply.
"""
import math

import torch

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say, usual_cause

COSINE_HINT = say(en="f(t) = cos²(((t/T + s)/(1 + s))·π/2); ᾱ_t = f(t)/f(0) for t = 1…T (T entries, ᾱ_0 = 1 excluded); "
                     "β_t = 1 − ᾱ_t/ᾱ_{t−1}, clipped at 0.999; return cumprod(1 − β) as float32.",
                  zh="f(t) = cos²(((t/T + s)/(1 + s))·π/2)；对 t = 1…T 取 ᾱ_t = f(t)/f(0)（共 T 项，不含 ᾱ_0 = 1）；"
                     "β_t = 1 − ᾱ_t/ᾱ_{t−1}，截断到 0.999；以 float32 返回 cumprod(1 − β)。")
RESCALE_HINT = say(en="√ᾱ = sqrt(cumprod(1 − β)); √ᾱ' = (√ᾱ − √ᾱ_T)·√ᾱ_1/(√ᾱ_1 − √ᾱ_T) (shift and scale the SQUARE "
                      "ROOTS); ᾱ' = √ᾱ'²; α'_1 = ᾱ'_1, α'_t = ᾱ'_t/ᾱ'_{t−1}; return β' = 1 − α'.",
                   zh="√ᾱ = sqrt(cumprod(1 − β))；√ᾱ' = (√ᾱ − √ᾱ_T)·√ᾱ_1/(√ᾱ_1 − √ᾱ_T)（平移和缩放的是【平方根】）；"
                      "ᾱ' = √ᾱ'²；α'_1 = ᾱ'_1，α'_t = ᾱ'_t/ᾱ'_{t−1}；返回 β' = 1 − α'。")


def cosine_mistakes(T, s=0.008):
    """What the usual cosine-schedule mistakes give (float32), each with its cause."""
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    right = torch.cumprod(1 - (1 - ab[1:] / ab[:-1]).clamp(max=0.999), 0)
    raw = torch.cat([torch.ones(1, dtype=torch.float64), f[1:]])
    unnormalized = torch.cumprod(1 - (1 - raw[1:] / raw[:-1]).clamp(max=0.999), 0)
    return ((torch.cat([torch.ones(1, dtype=torch.float64), right[:-1]]).float(),
             say(en="t = 0…T−1 instead of 1…T: the schedule starts at ᾱ = 1 (no noise) and every entry is one step "
                    "early; use t = arange(T + 1) and drop t = 0.",
                 zh="取了 t = 0…T−1 而不是 1…T：调度从 ᾱ = 1（没有噪声）开始，每一项都早了一步；"
                    "用 t = arange(T + 1) 并去掉 t = 0。")),
            ((f[1:] / f[0]).float(),
             say(en="f(t)/f(0) returned directly, without clipping the betas at 0.999 (the last ᾱ is then ≈ 0); clip β, "
                    "then recompute ᾱ = cumprod(1 − β).",
                 zh="直接返回了 f(t)/f(0)，没有把 β 截断到 0.999（最后一个 ᾱ 就约为 0）；要先截断 β，"
                    "再重新计算 ᾱ = cumprod(1 − β)。")),
            (unnormalized.float(),
             say(en="ᾱ_t = f(t) without dividing by f(0); with the offset s, f(0) < 1 — divide by f(0).",
                 zh="ᾱ_t = f(t)，没有除以 f(0)；有偏移 s 时 f(0) < 1——要除以 f(0)。")))


def rescale_mistakes(betas):
    """What the usual rescale mistakes give (in betas' dtype), each with its cause."""
    ab = alpha_bar_of(betas)
    lin = (ab - ab[-1]) * ab[0] / (ab[0] - ab[-1])
    sq = ab.sqrt()
    new = ((sq - sq[-1]) * sq[0] / (sq[0] - sq[-1])) ** 2
    return (((1 - torch.cat([lin[:1], lin[1:] / lin[:-1]])).to(betas.dtype),
             say(en="ᾱ itself shifted and scaled instead of √ᾱ; the rescale is affine in √ᾱ (the signal coefficient).",
                 zh="平移和缩放的是 ᾱ 本身而不是 √ᾱ；重缩放是对 √ᾱ（信号系数）做仿射变换。")),
            ((1 - torch.cat([torch.ones(1, dtype=new.dtype), new[1:] / new[:-1]])).to(betas.dtype),
             say(en="α'_1 = 1 (the first beta 0) instead of α'_1 = ᾱ'_1; that divides every ᾱ' by ᾱ'_1.",
                 zh="取了 α'_1 = 1（第一个 β 为 0），而不是 α'_1 = ᾱ'_1；这相当于把每个 ᾱ' 都除以了 ᾱ'_1。")))


def cosine_oracle(T, s=0.008):
    f = [math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2 for t in range(T + 1)]
    out, prod = [], 1.0
    for t in range(1, T + 1):
        beta = min(1 - (f[t] / f[0]) / (f[t - 1] / f[0]), 0.999)
        prod *= 1 - beta
        out.append(prod)
    return torch.tensor(out, dtype=torch.float64)


def alpha_bar_of(betas):
    return torch.cumprod(1 - betas.double(), 0)


def rescale_oracle(betas):
    sqrt_ab = [math.sqrt(v) for v in alpha_bar_of(betas).tolist()]
    first, last = sqrt_ab[0], sqrt_ab[-1]
    new = [((v - last) * first / (first - last)) ** 2 for v in sqrt_ab]
    alphas = [new[0]] + [new[i] / new[i - 1] for i in range(1, len(new))]
    return torch.tensor([1 - a for a in alphas], dtype=torch.float64)


def cosine(impl, T, s=None):
    got = impl.cosine_alphas_cumprod(T) if s is None else impl.cosine_alphas_cumprod(T, s)
    expect_tensor(got, f"cosine_alphas_cumprod({T}{'' if s is None else f', s={s}'})", shape=(T,), dtype=torch.float32)
    return got


def test_cosine_matches_the_closed_form(impl):
    for T, s in ((1000, None), (50, None), (20, 0.1)):
        what = f"cosine_alphas_cumprod({T}{'' if s is None else f', s={s}'})"
        got = cosine(impl, T, s)
        want = cosine_oracle(T, 0.008 if s is None else s)
        extra = say(en=" With s = 0.1, forgetting to divide by f(0) is a 2% error.",
                    zh="s = 0.1 时忘了除以 f(0) 会有 2% 的误差。") if s else say(en="", zh="")
        expect_close(got, want.float(), what, atol=1e-7, rtol=1e-4,
                     hint=say(en=COSINE_HINT.en + extra.en, zh=COSINE_HINT.zh + extra.zh),
                     likely=cosine_mistakes(T, 0.008 if s is None else s))


def test_cosine_starts_at_t_equals_one(impl):
    got = cosine(impl, 10)
    first = math.cos((0.1 + 0.008) / 1.008 * math.pi / 2) ** 2 / math.cos(0.008 / 1.008 * math.pi / 2) ** 2
    cause = usual_cause(got, cosine_mistakes(10), say(
        en="The schedule holds t = 1…T: ᾱ_0 = 1 (no noise) is not an entry. Use t = arange(T + 1) and drop t = 0.",
        zh="调度包含的是 t = 1…T：ᾱ_0 = 1（没有噪声）不是其中一项。用 t = arange(T + 1) 并去掉 t = 0。"), atol=1e-7)
    expect(abs(got[0].item() - first) < 1e-5,
           say(en=f"cosine_alphas_cumprod(10)[0] = {got[0].item():.6f}, expected ᾱ_1 = f(1)/f(0) = {first:.6f}. "
                  + cause.en,
               zh=f"cosine_alphas_cumprod(10)[0] = {got[0].item():.6f}，应为 ᾱ_1 = f(1)/f(0) = {first:.6f}。" + cause.zh))


def test_cosine_last_beta_is_clipped_at_0_999(impl):
    for T in (10, 1000):
        got = cosine(impl, T).double()
        ratio = (got[-1] / got[-2]).item()
        clip = usual_cause(got.float(), cosine_mistakes(T), say(
            en="Unclipped, f(T) = cos²(π/2) = 0 makes β_T = 1 and ᾱ_T = 0. Clip the BETAS, then recompute "
               "ᾱ = cumprod(1 − β).",
            zh="不截断时 f(T) = cos²(π/2) = 0，β_T = 1，ᾱ_T = 0。要截断的是【β】，然后重新计算 ᾱ = cumprod(1 − β)。"),
            atol=1e-7)
        expect(abs(ratio - 0.001) < 1e-6,
               say(en=f"cosine_alphas_cumprod({T}): ᾱ_T/ᾱ_{{T−1}} = {ratio:.4g}, i.e. β_T = {1 - ratio:.6g}; expected "
                      "β_T clipped to 0.999 so that ᾱ_T = 0.001·ᾱ_{T−1}. " + clip.en,
                   zh=f"cosine_alphas_cumprod({T})：ᾱ_T/ᾱ_{{T−1}} = {ratio:.4g}，即 β_T = {1 - ratio:.6g}；β_T 应截断到 "
                      "0.999，使 ᾱ_T = 0.001·ᾱ_{T−1}。" + clip.zh))
        betas = 1 - got / torch.cat([got.new_ones(1), got[:-1]])
        cause = usual_cause(got.float(), cosine_mistakes(T), COSINE_HINT, atol=1e-7)
        expect(betas.max().item() < 0.999 + 1e-6,
               say(en=f"cosine_alphas_cumprod({T}) implies a beta of {betas.max().item():.6f} > 0.999. {cause.en}",
                   zh=f"cosine_alphas_cumprod({T}) 隐含的某个 β 为 {betas.max().item():.6f} > 0.999。{cause.zh}"))


def test_cosine_is_strictly_decreasing_in_0_1(impl):
    got = cosine(impl, 200).double()
    cause = usual_cause(got.float(), cosine_mistakes(200), COSINE_HINT, atol=1e-7)
    lo, hi = got.min().item(), got.max().item()
    expect(bool((got > 0).all() and (got < 1).all() and (got[1:] < got[:-1]).all()),
           say(en=f"cosine_alphas_cumprod(200) must lie strictly between 0 and 1 and decrease strictly (min {lo:.3g}, "
                  f"max {hi:.6f}). {cause.en}",
               zh=f"cosine_alphas_cumprod(200) 必须严格介于 0 和 1 之间并严格递减（最小值 {lo:.3g}，最大值 {hi:.6f}）。"
                  f"{cause.zh}"))
    expect_deterministic(impl.cosine_alphas_cumprod, 30, what="cosine_alphas_cumprod(30)")


def check_rescaled(impl, betas, what):
    got = impl.rescale_zero_terminal_snr(betas)
    expect_tensor(got, what, shape=tuple(betas.shape), dtype=betas.dtype)
    return got


def test_rescale_matches_the_closed_form(impl):
    g = torch.Generator().manual_seed(0)
    cases = [(torch.linspace(1e-4, 0.02, 1000), say(en="DDPM's linear betas (1000,)", zh="DDPM 的线性 betas (1000,)")),
             (torch.sort(torch.rand(8, generator=g, dtype=torch.float64) * 0.3 + 0.01).values,
              say(en="random increasing float64 betas (8,)", zh="随机递增的 float64 betas (8,)"))]
    for betas, name in cases:
        what = say(en=f"rescale_zero_terminal_snr({name.en})", zh=f"rescale_zero_terminal_snr({name.zh})")
        got = check_rescaled(impl, betas, what)
        expect_close(got, rescale_oracle(betas).to(betas.dtype), what, atol=1e-6, rtol=1e-4, hint=RESCALE_HINT,
                     likely=rescale_mistakes(betas))


def test_rescale_makes_the_final_alpha_bar_zero_and_keeps_the_first(impl):
    betas = torch.linspace(1e-4, 0.02, 1000)
    got = check_rescaled(impl, betas, say(en="rescale_zero_terminal_snr(linear betas)",
                                          zh="rescale_zero_terminal_snr(线性 betas)"))
    ab_new, ab_old = alpha_bar_of(got), alpha_bar_of(betas)
    last_ab, last_b = ab_new[-1].item(), got[-1].item()
    expect(abs(last_ab) < 1e-6 and abs(last_b - 1) < 1e-6,
           say(en=f"after rescaling, the last ᾱ is {last_ab:.3g} (last beta {last_b:.6f}); zero terminal SNR means "
                  "ᾱ_T = 0 exactly, i.e. the last beta is 1. Shift √ᾱ by its last value.",
               zh=f"重缩放后最后一个 ᾱ 为 {last_ab:.3g}（最后一个 β 为 {last_b:.6f}）；零终端信噪比意味着 ᾱ_T 恰好为 0，"
                  "即最后一个 β 为 1。要把 √ᾱ 减去它的最后一个值。"))
    first_new, first_old = math.sqrt(ab_new[0].item()), math.sqrt(ab_old[0].item())
    expect(abs(first_new - first_old) < 1e-6,
           say(en=f"after rescaling, the first √ᾱ is {first_new:.7f}, expected it unchanged at {first_old:.7f}: scale "
                  "by √ᾱ_1/(√ᾱ_1 − √ᾱ_T), and α'_1 = ᾱ'_1 (not 1).",
               zh=f"重缩放后第一个 √ᾱ 为 {first_new:.7f}，应保持为 {first_old:.7f} 不变：缩放因子是 "
                  "√ᾱ_1/(√ᾱ_1 − √ᾱ_T)，并且 α'_1 = ᾱ'_1（不是 1）。"))


def test_rescale_is_affine_in_the_square_root(impl):
    g = torch.Generator().manual_seed(1)
    betas = torch.sort(torch.rand(12, generator=g, dtype=torch.float64) * 0.2 + 0.02).values
    got = check_rescaled(impl, betas, say(en="rescale_zero_terminal_snr(random betas (12,))",
                                          zh="rescale_zero_terminal_snr(随机 betas (12,))"))
    old, new = alpha_bar_of(betas).sqrt(), alpha_bar_of(got).clamp(min=0).sqrt()
    ratio = new[:-1] / (old[:-1] - old[-1])  # constant for an affine map that sends old[-1] to 0
    cause = usual_cause(got, rescale_mistakes(betas), RESCALE_HINT, atol=1e-6)
    lo, hi = ratio.min().item(), ratio.max().item()
    expect(bool((ratio.max() - ratio.min()).abs() < 1e-6 * ratio.abs().max()),
           say(en=f"√ᾱ' / (√ᾱ − √ᾱ_T) ranges from {lo:.6f} to {hi:.6f}; it must be constant: the rescale is linear in "
                  f"√ᾱ (the signal coefficient), not in ᾱ. {cause.en}",
               zh=f"√ᾱ' / (√ᾱ − √ᾱ_T) 的取值范围是 {lo:.6f} 到 {hi:.6f}；它必须是常数：重缩放对 √ᾱ（信号系数）是线性的，"
                  f"而不是对 ᾱ。{cause.zh}"))
    expect(bool((new[1:] < new[:-1]).all()),
           say(en="the rescaled √ᾱ must still decrease strictly. " + cause.en,
               zh="重缩放后的 √ᾱ 仍必须严格递减。" + cause.zh))


def test_rescale_does_not_modify_its_input(impl):
    betas = torch.linspace(1e-4, 0.02, 50)
    before = betas.clone()
    impl.rescale_zero_terminal_snr(betas)
    expect(torch.equal(before, betas), say(en="rescale_zero_terminal_snr modified betas in place; work on a copy.",
                                           zh="rescale_zero_terminal_snr 原地修改了 betas；请在副本上操作。"))
