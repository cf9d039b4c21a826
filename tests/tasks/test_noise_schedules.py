"""noise-schedules: the cosine ᾱ schedule (t = 1…T, betas clipped at 0.999) and the zero-terminal-SNR rescale.

Oracles: the formulas written out with Python floats (math.cos, running products) in double precision; algebraic
properties (ᾱ_T = 0, first √ᾱ kept, √ᾱ' affine in √ᾱ) checked on the schedule the betas imply.
"""
import math

import torch

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

COSINE_HINT = ("f(t) = cos²(((t/T + s)/(1 + s))·π/2); ᾱ_t = f(t)/f(0) for t = 1…T (T entries, ᾱ_0 = 1 excluded); "
               "β_t = 1 − ᾱ_t/ᾱ_{t−1}, clipped at 0.999; return cumprod(1 − β) as float32.")
RESCALE_HINT = ("√ᾱ = sqrt(cumprod(1 − β)); √ᾱ' = (√ᾱ − √ᾱ_T)·√ᾱ_1/(√ᾱ_1 − √ᾱ_T) (shift and scale the SQUARE ROOTS); "
                "ᾱ' = √ᾱ'²; α'_1 = ᾱ'_1, α'_t = ᾱ'_t/ᾱ'_{t−1}; return β' = 1 − α'.")


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
        expect_close(got, want.float(), what, atol=1e-7, rtol=1e-4,
                     hint=COSINE_HINT + (" With s = 0.1, forgetting to divide by f(0) is a 2% error." if s else ""))


def test_cosine_starts_at_t_equals_one(impl):
    got = cosine(impl, 10)
    first = math.cos((0.1 + 0.008) / 1.008 * math.pi / 2) ** 2 / math.cos(0.008 / 1.008 * math.pi / 2) ** 2
    expect(abs(got[0].item() - first) < 1e-5,
           f"cosine_alphas_cumprod(10)[0] = {got[0].item():.6f}, expected ᾱ_1 = f(1)/f(0) = {first:.6f}. The "
           "schedule holds t = 1…T: ᾱ_0 = 1 (no noise) is not an entry. Use t = arange(T + 1) and drop t = 0.")


def test_cosine_last_beta_is_clipped_at_0_999(impl):
    for T in (10, 1000):
        got = cosine(impl, T).double()
        ratio = (got[-1] / got[-2]).item()
        expect(abs(ratio - 0.001) < 1e-6,
               f"cosine_alphas_cumprod({T}): ᾱ_T/ᾱ_{{T−1}} = {ratio:.4g}, i.e. β_T = {1 - ratio:.6g}; expected β_T "
               "clipped to 0.999 so that ᾱ_T = 0.001·ᾱ_{T−1}. Unclipped, f(T) = cos²(π/2) = 0 makes β_T = 1 and "
               "ᾱ_T = 0. Clip the BETAS, then recompute ᾱ = cumprod(1 − β).")
        betas = 1 - got / torch.cat([got.new_ones(1), got[:-1]])
        expect(betas.max().item() < 0.999 + 1e-6, f"cosine_alphas_cumprod({T}) implies a beta of "
               f"{betas.max().item():.6f} > 0.999. {COSINE_HINT}")


def test_cosine_is_strictly_decreasing_in_0_1(impl):
    got = cosine(impl, 200).double()
    expect(bool((got > 0).all() and (got < 1).all() and (got[1:] < got[:-1]).all()),
           "cosine_alphas_cumprod(200) must lie strictly between 0 and 1 and decrease strictly "
           f"(min {got.min().item():.3g}, max {got.max().item():.6f}). {COSINE_HINT}")
    expect_deterministic(impl.cosine_alphas_cumprod, 30, what="cosine_alphas_cumprod(30)")


def check_rescaled(impl, betas, what):
    got = impl.rescale_zero_terminal_snr(betas)
    expect_tensor(got, what, shape=tuple(betas.shape), dtype=betas.dtype)
    return got


def test_rescale_matches_the_closed_form(impl):
    g = torch.Generator().manual_seed(0)
    cases = [(torch.linspace(1e-4, 0.02, 1000), "DDPM's linear betas (1000,)"),
             (torch.sort(torch.rand(8, generator=g, dtype=torch.float64) * 0.3 + 0.01).values,
              "random increasing float64 betas (8,)")]
    for betas, name in cases:
        what = f"rescale_zero_terminal_snr({name})"
        got = check_rescaled(impl, betas, what)
        expect_close(got, rescale_oracle(betas).to(betas.dtype), what, atol=1e-6, rtol=1e-4, hint=RESCALE_HINT)


def test_rescale_makes_the_final_alpha_bar_zero_and_keeps_the_first(impl):
    betas = torch.linspace(1e-4, 0.02, 1000)
    got = check_rescaled(impl, betas, "rescale_zero_terminal_snr(linear betas)")
    ab_new, ab_old = alpha_bar_of(got), alpha_bar_of(betas)
    expect(abs(ab_new[-1].item()) < 1e-6 and abs(got[-1].item() - 1) < 1e-6,
           f"after rescaling, the last ᾱ is {ab_new[-1].item():.3g} (last beta {got[-1].item():.6f}); zero terminal "
           "SNR means ᾱ_T = 0 exactly, i.e. the last beta is 1. Shift √ᾱ by its last value.")
    expect(abs(math.sqrt(ab_new[0].item()) - math.sqrt(ab_old[0].item())) < 1e-6,
           f"after rescaling, the first √ᾱ is {math.sqrt(ab_new[0].item()):.7f}, expected it unchanged at "
           f"{math.sqrt(ab_old[0].item()):.7f}: scale by √ᾱ_1/(√ᾱ_1 − √ᾱ_T), and α'_1 = ᾱ'_1 (not 1).")


def test_rescale_is_affine_in_the_square_root(impl):
    g = torch.Generator().manual_seed(1)
    betas = torch.sort(torch.rand(12, generator=g, dtype=torch.float64) * 0.2 + 0.02).values
    got = check_rescaled(impl, betas, "rescale_zero_terminal_snr(random betas (12,))")
    old, new = alpha_bar_of(betas).sqrt(), alpha_bar_of(got).clamp(min=0).sqrt()
    ratio = new[:-1] / (old[:-1] - old[-1])  # constant for an affine map that sends old[-1] to 0
    expect(bool((ratio.max() - ratio.min()).abs() < 1e-6 * ratio.abs().max()),
           f"√ᾱ' / (√ᾱ − √ᾱ_T) ranges from {ratio.min().item():.6f} to {ratio.max().item():.6f}; it must be constant: "
           "the rescale is linear in √ᾱ (the signal coefficient), not in ᾱ. " + RESCALE_HINT)
    expect(bool((new[1:] < new[:-1]).all()), "the rescaled √ᾱ must still decrease strictly. " + RESCALE_HINT)


def test_rescale_does_not_modify_its_input(impl):
    betas = torch.linspace(1e-4, 0.02, 50)
    before = betas.clone()
    impl.rescale_zero_terminal_snr(betas)
    expect(torch.equal(before, betas), "rescale_zero_terminal_snr modified betas in place; work on a copy.")
