"""denoising-score-matching: batch mean of ½σ²‖s(x + σε, σ) + ε/σ‖², the norm over the non-batch dims.

Oracles: the loss written out in float64 with a toy score model; a zero model, whose loss ½‖ε‖² does not depend
on σ because of the σ² weight; Gaussian data N(m, vI), whose noised score −(x̃ − m)/(v + σ²) is known and whose
expected loss ½·D·v/(v + σ²) is a closed form (Monte Carlo).
"""
import torch
import torch.nn as nn

from genprep.learner.checks import expect, expect_close, expect_scalar, say

HINT = say(en="x̃ = x + σ·ε; s = score_model(x̃, sigma); per example ½·σ²·‖s + ε/σ‖² with the squared norm SUMMED over "
              "all non-batch dims; then the mean over the batch. The target score is −ε/σ (pointing from x̃ back to x).",
           zh="x̃ = x + σ·ε；s = score_model(x̃, sigma)；每个样本的损失为 ½·σ²·‖s + ε/σ‖²，平方范数要对所有非 batch 维"
              "求和；再对 batch 求均值。目标分数是 −ε/σ（从 x̃ 指回 x）。")


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


def likely_dsm_mistakes(score, x, sigma, noise):
    """What the usual DSM mistakes give (score: a float64 callable (x̃, σ) -> s), each with its cause."""
    x, noise = x.double(), noise.double()
    x_tilde = x + sigma * noise
    s = score(x_tilde, sigma)

    def loss(s, target, weight=sigma ** 2, reduce=lambda e: e.flatten(1).sum(1).mean()):
        return (0.5 * weight * reduce((s - target).pow(2))).float()

    pairs = ((loss(s, -noise / sigma, reduce=lambda e: e.mean()),
             say(en="the squared error averaged over every element (F.mse_loss style); sum it over each example's "
                    "dims, then average over the batch.",
                 zh="对所有元素求了平方误差的平均（F.mse_loss 的做法）；应先对每个样本的各维求和，再对 batch 求均值。")),
            (loss(s, -noise / sigma, weight=1.0),
             say(en="no σ² weight: ½‖s + ε/σ‖² grows like 1/σ² for small σ; multiply by λ(σ) = σ².",
                 zh="没有乘 σ² 权重：σ 很小时 ½‖s + ε/σ‖² 会像 1/σ² 一样增长；要乘以 λ(σ) = σ²。")),
            (loss(score(x, sigma), -noise / sigma),
             say(en="the score evaluated at the clean x; evaluate it at the noised x̃ = x + σ·ε.",
                 zh="在干净的 x 处计算了分数；应在加噪后的 x̃ = x + σ·ε 处计算。")),
            (loss(s, -noise / sigma ** 2),
             say(en="the target −ε/σ²; in terms of ε the target score is −ε/σ (= −(x̃ − x)/σ²).",
                 zh="目标用了 −ε/σ²；用 ε 表示时目标分数是 −ε/σ（= −(x̃ − x)/σ²）。")),
            (loss(s, noise / sigma),
             say(en="the target +ε/σ points AWAY from the clean data; the score target is −ε/σ.",
                 zh="目标 +ε/σ 指向远离干净数据的方向；分数的目标是 −ε/σ。")))
    # Mistakes that give the same value here (e.g. no σ² weight and the target −ε/σ² for a zero model) cannot be
    # told apart: leave them to the check's own hint.
    return tuple((r, c) for k, (r, c) in enumerate(pairs)
                 if not any(j != k and torch.allclose(r, other, rtol=1e-6) for j, (other, _) in enumerate(pairs)))


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
                      hint=say(en=HINT.en + " If yours is 6× too small you averaged over the features (F.mse_loss) "
                                            "instead of summing them per example.",
                               zh=HINT.zh + "如果你的结果小了 6 倍，说明你对特征取了平均（F.mse_loss），而不是对每个"
                                            "样本的各维求和。"),
                      likely=likely_dsm_mistakes(model.pure, x, sigma, noise))


def test_score_model_sees_the_noised_data_and_sigma(impl):
    model = Score(1, 3)
    x, noise = draws(1, (5, 3))
    impl.dsm_loss(model, x, 0.7, noise)
    expect(len(model.calls) == 1, say(en=f"dsm_loss called score_model {len(model.calls)} times; call it once.",
                                      zh=f"dsm_loss 调用了 score_model {len(model.calls)} 次；只应调用一次。"))
    x_seen, sigma_seen = model.calls[0]
    expect_close(x_seen, x + 0.7 * noise, say(en="the input given to score_model", zh="传给 score_model 的输入"),
                 atol=1e-6,
                 hint=say(en="Evaluate the score at the NOISED point x̃ = x + σ·ε, not at the clean x: DSM learns the "
                             "score of the noised distribution.",
                          zh="要在加噪后的点 x̃ = x + σ·ε 处计算分数，而不是在干净的 x 处：DSM 学的是加噪分布的分数。"),
                 likely=((x, say(en="the clean x given to score_model; give it the noised x̃ = x + σ·ε.",
                                 zh="传给 score_model 的是干净的 x；应传入加噪后的 x̃ = x + σ·ε。")),))
    expect(float(sigma_seen) == 0.7, say(en=f"score_model got sigma={sigma_seen!r}; pass the noise level sigma unchanged.",
                                         zh=f"score_model 收到的 sigma={sigma_seen!r}；要原样传入噪声水平 sigma。"))


def test_sigma_squared_weighting_makes_the_zero_model_loss_independent_of_sigma(impl):
    # With s ≡ 0: ½σ²‖ε/σ‖² = ½‖ε‖² for every σ.
    x, noise = draws(2, (6, 4))
    want = 0.5 * noise.double().pow(2).sum(1).mean()
    for sigma in (0.05, 0.5, 5.0):
        expect_scalar(impl.dsm_loss(lambda xt, s: torch.zeros_like(xt), x, sigma, noise), want.float(),
                      say(en=f"dsm_loss(zero model, sigma={sigma})", zh=f"dsm_loss(零模型, sigma={sigma})"),
                      atol=1e-5, rtol=1e-4,
                      hint=say(en="With a zero score the loss is ½σ²·‖ε/σ‖² = ½‖ε‖², the same for every σ: the weight "
                                  "λ(σ) = σ² cancels the 1/σ² of the target. A loss growing like 1/σ² means the σ² "
                                  "weight is missing; a target of −ε/σ² (instead of −ε/σ) also breaks this.",
                               zh="分数为零时损失是 ½σ²·‖ε/σ‖² = ½‖ε‖²，对每个 σ 都一样：权重 λ(σ) = σ² 抵消了目标中的 "
                                  "1/σ²。损失像 1/σ² 一样增长说明漏了 σ² 权重；目标用 −ε/σ²（而不是 −ε/σ）也会破坏这一点。"),
                      likely=likely_dsm_mistakes(lambda xt, s: torch.zeros_like(xt), x, sigma, noise))


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
    listed = ", ".join(f"{k}: {val:.4f}" for k, val in losses.items())
    names_zh = ("真实的加噪分数 −(x̃ − m)/(v + σ²)", "1.3 × 真实分数", "真实分数 + 0.2", "干净数据的分数 −(x̃ − m)/v")
    listed_zh = "，".join(f"{k}：{val:.4f}" for k, val in zip(names_zh, losses.values()))
    expect(best.startswith("the true noised score"),
           say(en=f"dsm_loss (same x and noise for all) gave {listed}; the true score of the noised data must have the "
                  "lowest loss. A flipped target sign (+ε/σ) or a score evaluated at the clean x breaks this. " + HINT.en,
               zh=f"dsm_loss（x 和 noise 都相同）给出 {listed_zh}；加噪数据的真实分数必须有最低的损失。目标符号取反"
                  "（+ε/σ）或在干净的 x 处计算分数都会破坏这一点。" + HINT.zh))


def test_expected_loss_at_the_optimum_with_its_own_noise(impl):
    # For x ~ N(m, vI) in D dims, E[½σ²‖s* + ε/σ‖²] = ½·D·v/(v + σ²) at s* = −(x̃ − m)/(v + σ²).
    torch.manual_seed(1234)  # a global stream unrelated to the data's generator
    x, _, m, v = gaussian_setup(4)
    for sigma in (0.3, 1.0):
        want = 0.5 * 2 * v / (v + sigma ** 2)
        got = impl.dsm_loss(lambda xt, s: -(xt - m) / (v + s ** 2), x, sigma)
        expect_scalar(got, want, say(en=f"dsm_loss(true score, x ~ N({m}, {v}·I) 16000×2, sigma={sigma}) with its own "
                                        "noise",
                                     zh=f"自己抽噪声时的 dsm_loss(真实分数, x ~ N({m}, {v}·I) 16000×2, sigma={sigma})"),
                      atol=0, rtol=0.04,
                      hint=say(en="At the optimum the expected loss is ½·D·v/(v + σ²). Draw ε ~ N(0, I) with "
                                  "torch.randn_like(x) when noise is None. " + HINT.en,
                               zh="在最优处期望损失为 ½·D·v/(v + σ²)。noise 为 None 时用 torch.randn_like(x) 抽取 "
                                  "ε ~ N(0, I)。" + HINT.zh))


def test_gradient_reaches_the_score_model(impl):
    torch.manual_seed(5)
    net = nn.Linear(3, 3)
    x, noise = draws(5, (4, 3))
    loss = impl.dsm_loss(lambda xt, s: net(xt) / s, x, 0.4, noise)
    expect(isinstance(loss, torch.Tensor) and loss.dim() == 0 and loss.requires_grad,
           say(en="dsm_loss must return a 0-dim tensor that is differentiable w.r.t. the score model's parameters.",
               zh="dsm_loss 必须返回一个 0 维张量，并且对分数模型的参数可微。"))
    loss.backward()
    expect(net.weight.grad is not None and net.weight.grad.abs().sum() > 0,
           say(en="backward() from dsm_loss did not reach the score model's parameters; do not detach the score.",
               zh="从 dsm_loss 做 backward() 没有传到分数模型的参数；不要 detach 分数。"))


def test_does_not_modify_inputs(impl):
    model = Score(6, 4)
    x, noise = draws(6, (3, 4))
    before = (x.clone(), noise.clone())
    impl.dsm_loss(model, x, 0.8, noise)
    expect(torch.equal(before[0], x) and torch.equal(before[1], noise),
           say(en="dsm_loss modified x or noise in place; build x̃ = x + σ·ε as a new tensor (not x.add_(...)).",
               zh="dsm_loss 原地修改了 x 或 noise；要把 x̃ = x + σ·ε 构造成新张量（不要用 x.add_(...)）。"))
