"""gan-optimal-discriminator: D*(x) = p_data/(p_data + p_g), and the Jensen–Shannon divergence."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_scalar, expect_tensor, say, usual_cause
from genprep.learner.lang import part

HINT_D = say(en="D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise: the fraction of the density at x that is real.",
             zh="D*(x) = p_data(x) / (p_data(x) + p_g(x))，逐元素计算：x 处的密度中来自真实数据的比例。")
HINT_JSD = say(en="JSD(p‖q) = ½KL(p‖m) + ½KL(q‖m) with m = (p + q)/2, natural log, and terms with p_i = 0 (or q_i = 0) "
                  "contribute 0 (0·log 0 = 0).",
               zh="JSD(p‖q) = ½KL(p‖m) + ½KL(q‖m)，其中 m = (p + q)/2，用自然对数；p_i = 0（或 q_i = 0）的项"
                  "贡献为 0（0·log 0 = 0）。")
LOG2 = math.log(2)


def likely_d_mistakes(p_data, p_g):
    """What the usual mistakes give for D*, each with its cause."""
    return ((p_g / (p_data + p_g),
             say(en="p_g / (p_data + p_g), the probability that x is FAKE; D* is the probability that x is real, "
                    "p_data / (p_data + p_g).",
                 zh="算成了 p_g / (p_data + p_g)，即 x 是假样本的概率；D* 是 x 为真实样本的概率 "
                    "p_data / (p_data + p_g)。")),)


def likely_jsd_mistakes(p, q):
    """What the usual mistakes give for JSD(p‖q), each with its cause."""
    jsd = jsd_oracle(p, q)
    return (((jsd / LOG2).float(),
             say(en="the JSD in bits (log base 2, maximum 1); use the natural log (nats, maximum log 2), as in "
                    "V(D*, G) = −log 4 + 2·JSD.",
                 zh="用以 2 为底的对数算出了以比特为单位的 JSD（最大值 1）；应使用自然对数（奈特，最大值 log 2），"
                    "与 V(D*, G) = −log 4 + 2·JSD 一致。")),
            ((2 * jsd).float(),
             say(en="KL(p‖m) + KL(q‖m) without the ½ weights (range up to 2·log 2); JSD = ½KL(p‖m) + ½KL(q‖m).",
                 zh="算成了 KL(p‖m) + KL(q‖m)，漏了 ½ 的权重（上限变成 2·log 2）；JSD = ½KL(p‖m) + ½KL(q‖m)。")))


def random_distribution(g, n, zero_at=()):
    p = torch.rand(n, generator=g, dtype=torch.float64) + 0.05
    p[list(zero_at)] = 0.0
    return p / p.sum()


def entropy(p):
    # H(p) = −Σ p log p with 0 log 0 = 0
    return -(p[p > 0] * p[p > 0].log()).sum()


def jsd_oracle(p, q):
    # an independent route: JSD = H(m) − ½H(p) − ½H(q), in float64
    p, q = p.double(), q.double()
    return entropy(0.5 * (p + q)) - 0.5 * entropy(p) - 0.5 * entropy(q)


def value(D, p_data, p_g):
    # V(D, G) = Σ p_data log D + Σ p_g log(1 − D) over a discrete space, 0·log 0 = 0, float64
    D = D.double()
    return (torch.xlogy(p_data, D) + torch.xlogy(p_g, 1 - D)).sum()


def test_optimal_discriminator_is_the_pointwise_maximizer(impl):
    g = torch.Generator().manual_seed(0)
    p_data, p_g = random_distribution(g, 6).float(), random_distribution(g, 6).float()
    d_star = impl.optimal_discriminator(p_data, p_g)
    expect_tensor(d_star, "optimal_discriminator(p_data (6,), p_g (6,))", shape=(6,), dtype=torch.float32)
    # For each x, maximize p_data log d + p_g log(1 − d) over a grid of d in (0, 1).
    grid = torch.linspace(1e-4, 1 - 1e-4, 9999, dtype=torch.float64)  # spacing 1e-4
    objective = p_data.double()[:, None] * grid.log() + p_g.double()[:, None] * (1 - grid).log()  # (6, 9999)
    best = grid[objective.argmax(dim=1)]
    expect_close(d_star, best.float(), say(en="optimal_discriminator vs the argmax over a grid of D values",
                                           zh="optimal_discriminator 与在 D 的网格上取 argmax 的比较"), atol=2e-4,
                 hint=HINT_D, likely=likely_d_mistakes(p_data, p_g))
    # and no other discriminator does better on V(D, G)
    v_star = value(d_star, p_data.double(), p_g.double())
    for _ in range(20):
        other = torch.rand(6, generator=g, dtype=torch.float64) * 0.998 + 0.001
        v_other = float(value(other, p_data, p_g))
        cause = usual_cause(d_star, likely_d_mistakes(p_data, p_g), HINT_D)
        expect(float(value(other, p_data.double(), p_g.double())) <= float(v_star) + 1e-6,
               say(en=f"a random discriminator {other.tolist()} scores V = {v_other:.6f}, higher "
                      f"than your D* (V = {float(v_star):.6f}); D* must maximize V(D, G). {part(cause, 'en')}",
                   zh=f"一个随机判别器 {other.tolist()} 的 V = {v_other:.6f}，比你的 D*（V = {float(v_star):.6f}）"
                      f"还高；D* 必须使 V(D, G) 最大。{part(cause, 'zh')}"))


def test_optimal_discriminator_edge_cases(impl):
    p_data = torch.tensor([0.5, 0.3, 0.2, 0.0])
    p_g = torch.tensor([0.5, 0.0, 0.1, 0.4])
    d_star = impl.optimal_discriminator(p_data, p_g)
    expect_close(d_star, torch.tensor([0.5, 1.0, 2 / 3, 0.0]), "optimal_discriminator([.5,.3,.2,0], [.5,0,.1,.4])",
                 atol=1e-6, hint=say(en="Where p_g = 0 only real data can appear (D* = 1); where p_data = 0, D* = 0; "
                                        "where they are equal, D* = 1/2. " + HINT_D.en,
                                     zh="p_g = 0 处只可能出现真实数据（D* = 1）；p_data = 0 处 D* = 0；"
                                        "两者相等处 D* = 1/2。" + HINT_D.zh),
                 likely=likely_d_mistakes(p_data, p_g))


def test_value_at_the_optimum_is_minus_log_4_plus_twice_the_jsd(impl):
    g = torch.Generator().manual_seed(1)
    for data_zeros, g_zeros in (((), ()), ((0, 5), (2, 3))):  # never both 0 at one x: D* is undefined there
        p_data, p_g = random_distribution(g, 8, data_zeros).float(), random_distribution(g, 8, g_zeros).float()
        jsd = impl.jensen_shannon(p_data, p_g)
        expect_tensor(jsd, "jensen_shannon(p (8,), q (8,))", shape=(), dtype=torch.float32)
        expect_scalar(jsd, jsd_oracle(p_data, p_g),
                      say(en=f"jensen_shannon(p, q) with p = 0 at indices {list(data_zeros)}, q = 0 at {list(g_zeros)}",
                          zh=f"p 在索引 {list(data_zeros)} 处为 0、q 在 {list(g_zeros)} 处为 0 时的 jensen_shannon(p, q)"),
                      atol=1e-6, rtol=1e-5, hint=HINT_JSD, likely=likely_jsd_mistakes(p_data, p_g))
        d_star = impl.optimal_discriminator(p_data, p_g)
        v = value(d_star, p_data.double(), p_g.double())
        want = -math.log(4) + 2 * float(jsd_oracle(p_data, p_g))
        cause = usual_cause(d_star, likely_d_mistakes(p_data, p_g), HINT_D)
        expect(abs(float(v) - want) < 1e-5,
               say(en=f"V(D*, G) = {float(v):.6f} with your D*, but −log 4 + 2·JSD(p_data‖p_g) = {want:.6f}. "
                      f"{part(cause, 'en')}",
                   zh=f"用你的 D* 算得 V(D*, G) = {float(v):.6f}，但 −log 4 + 2·JSD(p_data‖p_g) = {want:.6f}。"
                      f"{part(cause, 'zh')}"))


def test_jsd_extremes(impl):
    p = torch.tensor([0.2, 0.3, 0.5, 0.0, 0.0])
    q = torch.tensor([0.0, 0.0, 0.0, 0.6, 0.4])
    expect_scalar(impl.jensen_shannon(p, q), LOG2,
                  say(en="jensen_shannon of two distributions with disjoint supports", zh="支撑集不相交的两个分布的 jensen_shannon"),
                  atol=1e-6, hint=say(en="Disjoint supports give the maximum, log 2 (natural log). " + HINT_JSD.en,
                                      zh="支撑集不相交时取最大值 log 2（自然对数）。" + HINT_JSD.zh),
                  likely=likely_jsd_mistakes(p, q))
    expect_scalar(impl.jensen_shannon(p, p.clone()), 0.0, "jensen_shannon(p, p)", atol=1e-7,
                  hint=say(en="A distribution has divergence 0 from itself. " + HINT_JSD.en,
                           zh="分布与自身的散度为 0。" + HINT_JSD.zh))


@st.composite
def distribution_pair(draw):
    n = draw(st.integers(1, 5))
    weights = st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0, 2.0, 7.0]), min_size=n, max_size=n)
    p, q = draw(weights), draw(weights)
    p[draw(st.integers(0, n - 1))] += 1.0  # not all zero
    q[draw(st.integers(0, n - 1))] += 1.0
    p, q = torch.tensor(p), torch.tensor(q)
    return p / p.sum(), q / q.sum()


@given(distribution_pair())
def test_property_jsd_symmetric_bounded_and_correct(impl, pq):
    p, q = pq
    a, b = impl.jensen_shannon(p, q), impl.jensen_shannon(q, p)
    shown = f"p = {[round(v, 4) for v in p.tolist()]}, q = {[round(v, 4) for v in q.tolist()]}"
    expect_scalar(a, jsd_oracle(p, q), f"jensen_shannon({shown})", atol=1e-6, rtol=1e-5, hint=HINT_JSD,
                  likely=likely_jsd_mistakes(p, q))
    expect(abs(float(a) - float(b)) < 1e-6,
           say(en=f"jensen_shannon is not symmetric for {shown}: {float(a)} vs {float(b)} — weight KL(p‖m) and KL(q‖m) "
                  "equally (½ each), both against the same m = (p + q)/2.",
               zh=f"jensen_shannon 对 {shown} 不对称：{float(a)} 与 {float(b)}——KL(p‖m) 和 KL(q‖m) 要等权（各 ½），"
                  "并且都相对同一个 m = (p + q)/2。"))
    cause = usual_cause(a, likely_jsd_mistakes(p, q), HINT_JSD)
    expect(-1e-7 <= float(a) <= LOG2 + 1e-6,
           say(en=f"jensen_shannon({shown}) = {float(a)} is outside [0, log 2]. {part(cause, 'en')}",
               zh=f"jensen_shannon({shown}) = {float(a)} 不在 [0, log 2] 之内。{part(cause, 'zh')}"))
