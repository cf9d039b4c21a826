"""denoising-score-matching: batch mean of ½σ²‖s(x + σε, σ) + ε/σ‖², the norm over the non-batch dims.

Oracles: the loss written out in float64 with a toy score model; a zero model, whose loss ½‖ε‖² does not depend
on σ because of the σ² weight; Gaussian data N(m, vI), whose noised score −(x̃ − m)/(v + σ²) is known and whose
expected loss ½·D·v/(v + σ²) is a closed form (Monte Carlo).
"""
import torch
import torch.nn as nn

from genprep.learner.checks import expect, expect_close, expect_scalar

HINT = ("x̃ = x + σ·ε; s = score_model(x̃, sigma); per example ½·σ²·‖s + ε/σ‖² with the squared norm SUMMED over all "
        "non-batch dims; then the mean over the batch. The target score is −ε/σ (pointing from x̃ back to x).")


class Score:
    """A toy score model tanh(x̃·W)/σ + b, per example; records its calls."""

    def __init__(self, seed, d):
        g = torch.Generator().manual_seed(seed)
        self.W = torch.randn(d, d, generator=g) / d ** 0.5
        self.b = torch.randn(d, generator=g) / 2
        self.calls = []

    def pure(self, x, sigma):
        flat = x.reshape(x.shape[0], -1).double()
        return (torch.tanh(flat @ self.W.double()) / sigma + self.b.double()).reshape(x.shape)

    def __call__(self, x, sigma):
        self.calls.append((x.detach().clone(), sigma))
        return self.pure(x, sigma).to(x.dtype)


def oracle(model, x, sigma, noise):
    x, noise = x.double(), noise.double()
    s = model.pure(x + sigma * noise, sigma)
    return (0.5 * sigma ** 2 * (s + noise / sigma).pow(2).flatten(1).sum(1)).mean()


def draws(seed, shape):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * 1.5 + 0.5, torch.randn(*shape, generator=g)


def test_matches_the_oracle_with_given_noise(impl):
    model = Score(0, 6)
    x, noise = draws(0, (4, 2, 3))
    for sigma in (0.1, 1.0, 3.0):
        what = f"dsm_loss(score_model, x (4, 2, 3), sigma={sigma}, noise)"
        expect_scalar(impl.dsm_loss(model, x, sigma, noise), oracle(model, x, sigma, noise).float(), what,
                      atol=1e-5, rtol=1e-4,
                      hint=HINT + " If yours is 6× too small you averaged over the features (F.mse_loss) instead of "
                                  "summing them per example.")


def test_score_model_sees_the_noised_data_and_sigma(impl):
    model = Score(1, 3)
    x, noise = draws(1, (5, 3))
    impl.dsm_loss(model, x, 0.7, noise)
    expect(len(model.calls) == 1, f"dsm_loss called score_model {len(model.calls)} times; call it once.")
    x_seen, sigma_seen = model.calls[0]
    expect_close(x_seen, x + 0.7 * noise, "the input given to score_model", atol=1e-6,
                 hint="Evaluate the score at the NOISED point x̃ = x + σ·ε, not at the clean x: DSM learns the score "
                      "of the noised distribution.")
    expect(float(sigma_seen) == 0.7, f"score_model got sigma={sigma_seen!r}; pass the noise level sigma unchanged.")


def test_sigma_squared_weighting_makes_the_zero_model_loss_independent_of_sigma(impl):
    # With s ≡ 0: ½σ²‖ε/σ‖² = ½‖ε‖² for every σ.
    x, noise = draws(2, (6, 4))
    want = 0.5 * noise.double().pow(2).sum(1).mean()
    for sigma in (0.05, 0.5, 5.0):
        expect_scalar(impl.dsm_loss(lambda xt, s: torch.zeros_like(xt), x, sigma, noise), want.float(),
                      f"dsm_loss(zero model, sigma={sigma})", atol=1e-5, rtol=1e-4,
                      hint="With a zero score the loss is ½σ²·‖ε/σ‖² = ½‖ε‖², the same for every σ: the weight "
                           "λ(σ) = σ² cancels the 1/σ² of the target. A loss growing like 1/σ² means the σ² weight is "
                           "missing; a target of −ε/σ² (instead of −ε/σ) also breaks this.")


def gaussian_setup(seed, N=16000, D=2, m=1.5, v=0.64):  # 32000 elements: below torch's parallel grain
    g = torch.Generator().manual_seed(seed)
    return m + v ** 0.5 * torch.randn(N, D, generator=g), torch.randn(N, D, generator=g), m, v


def test_the_analytic_score_has_the_lowest_loss(impl):
    x, noise, m, v = gaussian_setup(3)
    sigma = 0.5
    total = v + sigma ** 2
    candidates = {
        "the true noised score −(x̃ − m)/(v + σ²)": lambda xt, s: -(xt - m) / total,
        "1.3 × the true score": lambda xt, s: -1.3 * (xt - m) / total,
        "the true score + 0.2": lambda xt, s: -(xt - m) / total + 0.2,
        "the CLEAN data's score −(x̃ − m)/v": lambda xt, s: -(xt - m) / v,
    }
    losses = {name: impl.dsm_loss(fn, x, sigma, noise).item() for name, fn in candidates.items()}
    best = min(losses, key=losses.get)
    expect(best.startswith("the true noised score"),
           f"dsm_loss (same x and noise for all) gave {', '.join(f'{k}: {val:.4f}' for k, val in losses.items())}; "
           "the true score of the noised data must have the lowest loss. A flipped target sign (+ε/σ) or a score "
           "evaluated at the clean x breaks this. " + HINT)


def test_expected_loss_at_the_optimum_with_its_own_noise(impl):
    # For x ~ N(m, vI) in D dims, E[½σ²‖s* + ε/σ‖²] = ½·D·v/(v + σ²) at s* = −(x̃ − m)/(v + σ²).
    torch.manual_seed(1234)  # a global stream unrelated to the data's generator
    x, _, m, v = gaussian_setup(4)
    for sigma in (0.3, 1.0):
        want = 0.5 * 2 * v / (v + sigma ** 2)
        got = impl.dsm_loss(lambda xt, s: -(xt - m) / (v + s ** 2), x, sigma)
        expect_scalar(got, want, f"dsm_loss(true score, x ~ N({m}, {v}·I) 16000×2, sigma={sigma}) with its own noise",
                      atol=0, rtol=0.04,
                      hint="At the optimum the expected loss is ½·D·v/(v + σ²). Draw ε ~ N(0, I) with "
                           "torch.randn_like(x) when noise is None. " + HINT)


def test_gradient_reaches_the_score_model(impl):
    torch.manual_seed(5)
    net = nn.Linear(3, 3)
    x, noise = draws(5, (4, 3))
    loss = impl.dsm_loss(lambda xt, s: net(xt) / s, x, 0.4, noise)
    expect(isinstance(loss, torch.Tensor) and loss.dim() == 0 and loss.requires_grad,
           "dsm_loss must return a 0-dim tensor that is differentiable w.r.t. the score model's parameters.")
    loss.backward()
    expect(net.weight.grad is not None and net.weight.grad.abs().sum() > 0,
           "backward() from dsm_loss did not reach the score model's parameters.")


def test_does_not_modify_inputs(impl):
    model = Score(6, 4)
    x, noise = draws(6, (3, 4))
    before = (x.clone(), noise.clone())
    impl.dsm_loss(model, x, 0.8, noise)
    expect(torch.equal(before[0], x) and torch.equal(before[1], noise),
           "dsm_loss modified x or noise in place; build x̃ = x + σ·ε as a new tensor (not x.add_(...)).")
