"""label-smoothing: cross-entropy against (1 − s)·onehot + s/C, mean over the targets that are not ignore_index."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, say

HINT = say(en="Per row: (1 − s)·(−log p_y) + (s/C)·Σ_k (−log p_k) with log p = log_softmax(logits, -1); the s/C goes to "
              "all C classes, the true one included. Then average over the rows whose target is not ignore_index.",
           zh="每一行：(1 − s)·(−log p_y) + (s/C)·Σ_k (−log p_k)，其中 log p = log_softmax(logits, -1)；s/C 分给全部 "
              "C 个类别，包括真实类别。然后只在目标不等于 ignore_index 的行上求均值。")


def likely_mistakes(logits, target, s, ignore_index=-100):
    """What the usual mistakes give (float32 scalars), each with its cause."""
    n, c = logits.shape
    log_p = logits.double().log_softmax(-1)
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    nll = -log_p.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    uniform = -log_p.mean(-1)
    per_row = (1 - s) * nll + s * uniform
    k = keep.double()
    n_keep = max(int(keep.sum()), 1)
    others = s / (c - 1) * (-log_p.sum(-1) - nll) + (1 - s) * nll if c > 1 else nll
    pairs = (((per_row * k).sum() / n,
              say(en="the mean taken over all N rows with the ignored ones zeroed; divide by the number of kept rows.",
                  zh="把被忽略的行置 0 后在全部 N 行上求了均值；应除以保留下来的行数。")),
             ((others * k).sum() / n_keep,
              say(en="s/(C − 1) spread over the OTHER classes only; spread s/C over ALL C classes (the true class gets "
                     "1 − s + s/C).",
                  zh="只把 s/(C − 1) 分给了【其他】类别；应把 s/C 分给【全部】C 个类别（真实类别得到 1 − s + s/C）。")),
             ((1 - s) * (nll * k).sum() / n_keep + s * uniform.mean(),
              say(en="the uniform (s/C) term averaged over ALL rows, ignored ones included; mask it like the NLL term.",
                  zh="均匀项（s/C）在包括被忽略行在内的【所有】行上求了均值；它也要像 NLL 项一样做掩码。")),
             (((nll + s * uniform) * k).sum() / n_keep,
              say(en="the true class left at weight 1 (onehot + s/C, which no longer sums to 1); it gets 1 − s + s/C.",
                  zh="真实类别的权重仍是 1（onehot + s/C，和不再为 1）；它应得到 1 − s + s/C。")))
    return tuple((r.float(), cause) for r, cause in pairs)


def oracle(logits, target, s, ignore_index=-100):
    return F.cross_entropy(logits.double(), target, label_smoothing=s, ignore_index=ignore_index).float()


def closed_form(logits, target, s, ignore_index=-100):
    """The smoothed target written out as a dense (N, C) distribution, in float64."""
    n, c = logits.shape
    log_p = logits.double().log_softmax(-1)
    total, count = torch.zeros((), dtype=torch.float64), 0
    for i in range(n):
        if int(target[i]) == ignore_index:
            continue
        q = torch.full((c,), s / c, dtype=torch.float64)
        q[int(target[i])] += 1 - s
        total = total - (q * log_p[i]).sum()
        count += 1
    return (total / count).float()


def draw(seed, n=7, c=5, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, c, generator=g), torch.randint(0, c, (n,), generator=g)


def test_matches_pytorch_label_smoothing(impl):
    for seed, s in ((0, 0.1), (1, 0.3), (2, 0.05)):
        logits, target = draw(seed)
        what = f"smoothed_cross_entropy(logits (7, 5), target, smoothing={s})"
        got = impl.smoothed_cross_entropy(logits, target, smoothing=s)
        expect_scalar(got, oracle(logits, target, s), what, atol=1e-5, rtol=1e-5, hint=HINT,
                      likely=likely_mistakes(logits, target, s))


def test_equals_the_written_out_soft_target(impl):
    logits, target = draw(3, n=6, c=4)
    expect_scalar(impl.smoothed_cross_entropy(logits, target, smoothing=0.4), closed_form(logits, target, 0.4),
                  say(en="smoothed_cross_entropy(smoothing=0.4) vs −Σ_k q_k log p_k with q = 0.6·onehot + 0.4/4",
                      zh="smoothed_cross_entropy(smoothing=0.4) 与 −Σ_k q_k log p_k（q = 0.6·onehot + 0.4/4）的比较"),
                  atol=1e-5, rtol=1e-5,
                  hint=say(en="The smoothing mass s is spread as s/C over ALL C classes (the true class gets "
                              "1 − s + s/C), not s/(C − 1) over the other classes only.",
                           zh="平滑质量 s 以 s/C 分给【全部】C 个类别（真实类别得到 1 − s + s/C），"
                              "而不是以 s/(C − 1) 只分给其他类别。"),
                  likely=likely_mistakes(logits, target, 0.4))


def test_default_smoothing_is_0_1(impl):
    logits, target = draw(4)
    expect_scalar(impl.smoothed_cross_entropy(logits, target), oracle(logits, target, 0.1),
                  say(en="smoothed_cross_entropy(logits, target) with the default smoothing",
                      zh="使用默认 smoothing 的 smoothed_cross_entropy(logits, target)"), atol=1e-5, rtol=1e-5,
                  hint=say(en="The default is smoothing=0.1.", zh="默认值是 smoothing=0.1。"),
                  likely=likely_mistakes(logits, target, 0.1))


def test_zero_smoothing_is_plain_cross_entropy(impl):
    logits, target = draw(5, n=9, c=6)
    want = F.cross_entropy(logits.double(), target).float()
    expect_scalar(impl.smoothed_cross_entropy(logits, target, smoothing=0.0), want,
                  say(en="smoothed_cross_entropy(smoothing=0.0) vs plain cross-entropy",
                      zh="smoothed_cross_entropy(smoothing=0.0) 与普通交叉熵的比较"), atol=1e-5, rtol=1e-5,
                  hint=say(en="With s = 0 the target is the one-hot vector and the loss is the mean of −log p_y; "
                              "the true class must get weight 1 − s (here 1).",
                           zh="s = 0 时目标就是独热向量，损失是 −log p_y 的均值；真实类别的权重必须是 1 − s（这里是 1）。"))


def test_ignored_targets_are_excluded_from_the_mean(impl):
    logits, target = draw(6, n=8, c=5)
    target[[1, 4, 5]] = -100
    got = impl.smoothed_cross_entropy(logits, target, smoothing=0.2)
    expect_scalar(got, oracle(logits, target, 0.2), say(en="smoothed_cross_entropy with 3 of 8 targets = -100",
                                                        zh="8 个目标中有 3 个为 -100 时的 smoothed_cross_entropy"),
                  atol=1e-5, rtol=1e-5,
                  hint=say(en="Rows with target == ignore_index contribute nothing, neither their −log p_y nor their "
                              "smoothing term, and the mean divides by the number of kept rows (5), not by N (8).",
                           zh="target == ignore_index 的行不贡献任何东西，既没有 −log p_y，也没有平滑项；"
                              "均值要除以保留的行数（5），而不是 N（8）。"),
                  likely=likely_mistakes(logits, target, 0.2))
    # Changing the logits of ignored rows must not change anything.
    other = logits.clone()
    other[[1, 4, 5]] = 50 * torch.randn(3, 5, generator=torch.Generator().manual_seed(7))
    expect_scalar(impl.smoothed_cross_entropy(other, target, smoothing=0.2), oracle(logits, target, 0.2),
                  say(en="smoothed_cross_entropy after changing only the logits of the ignored rows",
                      zh="只改动被忽略行的 logits 之后的 smoothed_cross_entropy"), atol=1e-5, rtol=1e-5,
                  hint=say(en="An ignored row must not enter the loss at all — also not through the uniform (s/C) term.",
                           zh="被忽略的行完全不能进入损失——也不能通过均匀项（s/C）进入。"),
                  likely=likely_mistakes(other, target, 0.2))


def test_custom_ignore_index_that_is_a_class_id(impl):
    logits, target = draw(8, n=10, c=4)
    target[:4] = torch.tensor([2, 0, 2, 1])
    for ignore in (2, -1):
        expect_scalar(impl.smoothed_cross_entropy(logits, target, smoothing=0.1, ignore_index=ignore),
                      oracle(logits, target, 0.1, ignore_index=ignore),
                      f"smoothed_cross_entropy(..., ignore_index={ignore})", atol=1e-5, rtol=1e-5,
                      hint=say(en="Compare the targets with the ignore_index argument, not with the constant -100.",
                               zh="要把目标与参数 ignore_index 比较，而不是与常量 -100 比较。"),
                      likely=likely_mistakes(logits, target, 0.1, ignore))


def test_gradient_is_p_minus_q_over_kept_rows(impl):
    logits, target = draw(9, n=6, c=5)
    target[2] = -100
    x = logits.clone().requires_grad_(True)
    impl.smoothed_cross_entropy(x, target, smoothing=0.3).backward()
    expect(x.grad is not None,
           say(en="no gradient reached the logits — build the loss from torch ops on the logits "
                  "(no .item(), .detach() or numpy).",
               zh="梯度没有传到 logits——要用作用在 logits 上的 torch 运算构造损失（不要用 .item()、.detach() 或 numpy）。"))
    ref = logits.double().clone().requires_grad_(True)
    F.cross_entropy(ref, target, label_smoothing=0.3).backward()
    wrong = logits.double().clone().requires_grad_(True)  # the gradients the usual mistakes give
    likely_grads = tuple((torch.autograd.grad(r, wrong, retain_graph=True)[0].float(), c)
                         for r, c in likely_mistakes(wrong, target, 0.3))
    expect_close(x.grad, ref.grad.float(), say(en="d loss / d logits of smoothed_cross_entropy(smoothing=0.3)",
                                               zh="smoothed_cross_entropy(smoothing=0.3) 的 d loss / d logits"), atol=1e-6,
                 hint=say(en="The gradient of each kept row is (softmax − q)/n_kept, and 0 for the ignored row.",
                          zh="每个保留行的梯度是 (softmax − q)/n_kept，被忽略的行梯度为 0。"),
                 likely=likely_grads)


def test_stable_for_huge_logits(impl):
    logits = torch.tensor([[1e4, -1e4, 0.0, 5e3], [-1e4, -1e4, 1e4, 1e4 - 3.0], [2.0, -1e4, 1e4, -5e3]])
    target = torch.tensor([0, 3, 1])
    got = impl.smoothed_cross_entropy(logits, target, smoothing=0.1)
    expect_scalar(got, oracle(logits, target, 0.1), say(en="smoothed_cross_entropy on logits of magnitude 1e4",
                                                        zh="logits 量级为 1e4 时的 smoothed_cross_entropy"), atol=1e-3,
                  rtol=1e-5,
                  hint=say(en="softmax underflows to exactly 0 here and log(0) = −inf; take log_softmax "
                              "(x − logsumexp(x)) instead of log(softmax(x)).",
                           zh="这里 softmax 会下溢成正好 0，log(0) = −inf；要用 log_softmax（x − logsumexp(x)），"
                              "不要用 log(softmax(x))。"),
                  likely=likely_mistakes(logits, target, 0.1))


def test_returns_a_scalar_and_keeps_inputs(impl):
    logits, target = draw(10)
    target[0] = -100
    before = (logits.clone(), target.clone())
    got = expect_deterministic(impl.smoothed_cross_entropy, logits, target, 0.2,
                               what="smoothed_cross_entropy(logits, target, 0.2)")
    expect_scalar(got, oracle(logits, target, 0.2), "smoothed_cross_entropy(logits, target, 0.2)", atol=1e-5,
                  rtol=1e-5, hint=HINT, likely=likely_mistakes(logits, target, 0.2))
    expect(torch.equal(logits, before[0]) and torch.equal(target, before[1]),
           say(en="smoothed_cross_entropy modified logits or target in place (e.g. target[target == -100] = 0); "
                  "work on copies or use torch.where.",
               zh="smoothed_cross_entropy 原地修改了 logits 或 target（例如 target[target == -100] = 0）；"
                  "请在副本上操作，或使用 torch.where。"))


@given(st.integers(1, 5), st.integers(2, 5), st.floats(0.0, 0.9), st.integers(0, 2**16))
def test_property_random_shapes_and_smoothing(impl, n, c, s, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 4 * torch.randn(n, c, generator=g)
    target = torch.randint(0, c, (n,), generator=g)
    if n > 1:
        target[0] = -100  # at least one kept row remains
    expect_scalar(impl.smoothed_cross_entropy(logits, target, smoothing=s), oracle(logits, target, s),
                  f"smoothed_cross_entropy on logits {tuple(logits.shape)}, smoothing={s:.3g}", atol=1e-4, rtol=1e-4,
                  hint=HINT, likely=likely_mistakes(logits, target, s))
