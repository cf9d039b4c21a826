"""frechet-distance: ‖μ1−μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1^½ Σ2 Σ1^½)^½), the formula behind FID."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_scalar, expect_tensor, say, usual_cause

HINT = say(en="d² = ‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2·Tr((Σ1^½ Σ2 Σ1^½)^½), with MATRIX square roots "
              "(e.g. eigh: V diag(√w) Vᵀ), not elementwise ones.",
           zh="d² = ‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2·Tr((Σ1^½ Σ2 Σ1^½)^½)，其中的平方根是矩阵平方根"
              "（例如用 eigh：V diag(√w) Vᵀ），不是逐元素开方。")


def sqrtm(a):
    w, v = torch.linalg.eigh(a)
    return v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T


def likely_fd_mistakes(mu1, sigma1, mu2, sigma2):
    """What the usual Fréchet-distance mistakes give, each with its cause."""
    mu1, sigma1, mu2, sigma2 = (t.double() for t in (mu1, sigma1, mu2, sigma2))
    s1h = sqrtm(sigma1)
    cross = sqrtm(s1h @ sigma2 @ s1h).trace()
    mean2, traces = (mu1 - mu2).pow(2).sum(), sigma1.trace() + sigma2.trace()
    return (((mean2.sqrt() + traces - 2 * cross).item(),
             say(en="the mean term ‖μ1 − μ2‖ is not squared; use ‖μ1 − μ2‖².",
                 zh="均值项 ‖μ1 − μ2‖ 没有平方；应使用 ‖μ1 − μ2‖²。")),
            ((mean2 + traces - cross).item(),
             say(en="the factor 2 on the cross term is missing: Tr(Σ1 + Σ2 − 2(Σ1^½ Σ2 Σ1^½)^½).",
                 zh="交叉项漏了因子 2：Tr(Σ1 + Σ2 − 2(Σ1^½ Σ2 Σ1^½)^½)。")),
            ((mean2 + traces - 2 * (sigma1 @ sigma2).sqrt().trace()).item(),
             say(en="an elementwise torch.sqrt of Σ1Σ2; the cross term needs a MATRIX square root.",
                 zh="对 Σ1Σ2 做了逐元素的 torch.sqrt；交叉项需要矩阵平方根。")),
            ((mean2 + traces - 2 * (s1h @ sqrtm(sigma2)).trace()).item(),
             say(en="Σ1^½ Σ2^½ for the cross term; it equals (Σ1^½ Σ2 Σ1^½)^½ only when the covariances commute.",
                 zh="交叉项用了 Σ1^½ Σ2^½；只有两个协方差可交换时它才等于 (Σ1^½ Σ2 Σ1^½)^½。")))


def oracle(mu1, sigma1, mu2, sigma2):
    """Independent route: Tr((Σ1Σ2)^½) = Σ √λ over the eigenvalues λ ≥ 0 of the (non-symmetric) product Σ1Σ2."""
    mu1, sigma1, mu2, sigma2 = (t.double() for t in (mu1, sigma1, mu2, sigma2))
    lam = torch.linalg.eigvals(sigma1 @ sigma2).real.clamp(min=0)
    return ((mu1 - mu2).pow(2).sum() + sigma1.trace() + sigma2.trace() - 2 * lam.sqrt().sum()).item()


def random_spd(d, g, scale=1.0):
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return (scale * (a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64))).float()


def tol(sigma1, sigma2):
    # float32 inputs: allow round-off proportional to the size of the traces
    return 1e-4 * float(sigma1.trace() + sigma2.trace()) + 1e-5


def test_one_dimensional_closed_form(impl):
    # For 1-D Gaussians d² = (m1 − m2)² + (s1 − s2)², s the standard deviations.
    for m1, s1, m2, s2 in [(0.0, 1.0, 0.0, 1.0), (1.0, 2.0, -0.5, 0.5), (3.0, 0.1, 3.0, 4.0)]:
        got = impl.frechet_distance(torch.tensor([m1]), torch.tensor([[s1 ** 2]]), torch.tensor([m2]),
                                    torch.tensor([[s2 ** 2]]))
        args = (torch.tensor([m1]), torch.tensor([[s1 ** 2]]), torch.tensor([m2]), torch.tensor([[s2 ** 2]]))
        expect_scalar(got, (m1 - m2) ** 2 + (s1 - s2) ** 2,
                      f"frechet_distance(N({m1}, {s1}²), N({m2}, {s2}²))", atol=1e-4, rtol=1e-4,
                      hint=say(en="In 1-D the answer is (m1 − m2)² + (s1 − s2)²; the mean term is squared. " + HINT.en,
                               zh="一维时答案是 (m1 − m2)² + (s1 − s2)²；均值项要平方。" + HINT.zh),
                      likely=likely_fd_mistakes(*args))


def test_diagonal_closed_form(impl):
    g = torch.Generator().manual_seed(1)
    mu1, mu2 = torch.randn(5, generator=g), torch.randn(5, generator=g)
    a, b = torch.rand(5, generator=g) * 3 + 0.1, torch.rand(5, generator=g) * 3 + 0.1
    want = ((mu1 - mu2).pow(2).sum() + (a.sqrt() - b.sqrt()).pow(2).sum()).item()
    got = impl.frechet_distance(mu1, torch.diag(a), mu2, torch.diag(b))
    expect_tensor(got, "frechet_distance(mu (5,), sigma (5, 5), ...)", shape=(), dtype=torch.float32)
    expect_scalar(got, want, say(en="frechet_distance of two diagonal Gaussians", zh="两个对角协方差高斯的 frechet_distance"),
                  atol=1e-4, rtol=1e-4,
                  hint=say(en="With diagonal covariances it is ‖μ1 − μ2‖² + Σ_i (√a_i − √b_i)². " + HINT.en,
                           zh="协方差为对角阵时它等于 ‖μ1 − μ2‖² + Σ_i (√a_i − √b_i)²。" + HINT.zh),
                  likely=likely_fd_mistakes(mu1, torch.diag(a), mu2, torch.diag(b)))


def test_random_spd_matrices_against_an_eigenvalue_oracle(impl):
    # Non-commuting covariances: (Σ1^½ Σ2 Σ1^½)^½ is NOT Σ1^½ Σ2^½ here.
    g = torch.Generator().manual_seed(2)
    for d, scale in [(3, 1.0), (6, 1.0), (8, 5.0)]:
        mu1, mu2 = torch.randn(d, generator=g), torch.randn(d, generator=g)
        s1, s2 = random_spd(d, g, scale), random_spd(d, g, 1.0)
        expect_scalar(impl.frechet_distance(mu1, s1, mu2, s2), oracle(mu1, s1, mu2, s2),
                      say(en=f"frechet_distance for random {d}×{d} covariances", zh=f"随机 {d}×{d} 协方差的 frechet_distance"),
                      atol=tol(s1, s2), rtol=1e-4, hint=HINT, likely=likely_fd_mistakes(mu1, s1, mu2, s2))


def test_symmetric_and_zero_for_identical_gaussians(impl):
    g = torch.Generator().manual_seed(3)
    mu1, mu2 = torch.randn(4, generator=g), torch.randn(4, generator=g)
    s1, s2 = random_spd(4, g), random_spd(4, g, 2.0)
    ab, ba = impl.frechet_distance(mu1, s1, mu2, s2), impl.frechet_distance(mu2, s2, mu1, s1)
    expect_scalar(ba, float(ab), say(en="frechet_distance(b, a) vs frechet_distance(a, b)",
                                     zh="frechet_distance(b, a) 与 frechet_distance(a, b) 的比较"), atol=tol(s1, s2),
                  rtol=1e-4, hint=say(en="The Fréchet distance is symmetric. " + HINT.en,
                                      zh="Fréchet 距离是对称的。" + HINT.zh))
    same = impl.frechet_distance(mu1, s1, mu1.clone(), s1.clone())
    expect_scalar(same, 0.0, say(en="frechet_distance of a Gaussian with itself", zh="高斯分布与自身的 frechet_distance"),
                  atol=tol(s1, s1),
                  hint=say(en="Identical Gaussians are at distance 0: Tr(Σ + Σ − 2(Σ^½ Σ Σ^½)^½) = Tr(2Σ − 2Σ) = 0.",
                           zh="相同的高斯分布距离为 0：Tr(Σ + Σ − 2(Σ^½ Σ Σ^½)^½) = Tr(2Σ − 2Σ) = 0。"),
                  likely=likely_fd_mistakes(mu1, s1, mu1, s1))
    shifted = impl.frechet_distance(mu1 + 1.0, s1, mu1, s1)
    expect_scalar(shifted, 4.0, say(en="frechet_distance after shifting every one of 4 mean coordinates by 1",
                                    zh="把 4 个均值坐标都平移 1 之后的 frechet_distance"),
                  atol=tol(s1, s1), rtol=1e-4,
                  hint=say(en="The mean term is the SQUARED distance ‖μ1 − μ2‖² = 4 here.",
                           zh="均值项是距离的平方 ‖μ1 − μ2‖²，这里等于 4。"),
                  likely=likely_fd_mistakes(mu1 + 1.0, s1, mu1, s1))


@given(st.integers(1, 5), st.sampled_from([0.1, 1.0, 10.0]), st.integers(0, 2**16))
def test_property_random_gaussians(impl, d, scale, seed):
    g = torch.Generator().manual_seed(seed)
    mu1, mu2 = torch.randn(d, generator=g), torch.randn(d, generator=g)
    s1, s2 = random_spd(d, g, scale), random_spd(d, g)
    got = impl.frechet_distance(mu1, s1, mu2, s2)
    expect_scalar(got, oracle(mu1, s1, mu2, s2), say(en=f"frechet_distance in {d} dims, covariance scale {scale}",
                                                     zh=f"{d} 维、协方差尺度为 {scale} 时的 frechet_distance"),
                  atol=tol(s1, s2), rtol=1e-4, hint=HINT, likely=likely_fd_mistakes(mu1, s1, mu2, s2))
    cause = usual_cause(got, likely_fd_mistakes(mu1, s1, mu2, s2), HINT)
    expect(float(got) >= -tol(s1, s2), say(en=f"frechet_distance returned {float(got):.4g} < 0; a squared distance is "
                                              f"never negative. {cause.en}",
                                           zh=f"frechet_distance 返回了 {float(got):.4g} < 0；距离的平方不可能为负。"
                                              f"{cause.zh}"))
