"""siglip-loss: −(1/N) Σ_ij log σ(z_ij (t·x̂_iᵀŷ_j + b)), z = +1 on the diagonal and −1 off it."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor, say

from _threads import one_thread  # noqa: F401  (autouse: every test here on one thread)

HINT = say(en="L2-normalize each ROW of both (N, D) inputs, logits = t · image @ textᵀ + b (t is the multiplier "
              "itself), labels z = 2·eye(N) − 1 (+1 for matching pairs, −1 for all others), then "
              "−F.logsigmoid(z * logits).sum() / N: one sigmoid per pair, summed over all N² pairs, divided by N.",
           zh="对两个 (N, D) 输入的每一行做 L2 归一化，logits = t · image @ textᵀ + b（t 本身就是乘数），"
              "标签 z = 2·eye(N) − 1（匹配对为 +1，其余为 −1），然后 −F.logsigmoid(z * logits).sum() / N："
              "每一对一个 sigmoid，对全部 N² 对求和，再除以 N。")


def likely_siglip_mistakes(image, text, t, b):
    """What the usual mistakes give on these embeddings, each with its cause (expect_scalar(likely=...))."""
    x, y = image.detach().double(), text.detach().double()
    xn, yn = x / x.norm(dim=1, keepdim=True), y / y.norm(dim=1, keepdim=True)
    N = x.size(0)
    t, b = float(t), float(b)
    cos = xn @ yn.T
    logits = t * cos + b
    z = 2 * torch.eye(N, dtype=torch.float64) - 1
    labels = torch.arange(N)
    return tuple((v.float(), c) for v, c in (
        (softplus64(-(z * t * cos + b)).sum() / N,
         say(en="only the similarity is multiplied by the label, σ(z·t·cos + b); the label multiplies the whole logit, "
                "bias included: σ(z·(t·cos + b)).",
             zh="标签只乘了相似度，σ(z·t·cos + b)；标签要乘整个 logit（包括偏置）：σ(z·(t·cos + b))。")),
        (softplus64(-z * logits).mean(),
         say(en="a mean over all N² pairs; SigLIP sums the N² terms and divides by N.",
             zh="对全部 N² 对求了平均；SigLIP 对 N² 项求和后除以 N。")),
        (softplus64(-z * (t * (x @ y.T) + b)).sum() / N,
         say(en="no L2 normalization: raw dot products; divide each row by its own norm to get cosine similarities.",
             zh="没有做 L2 归一化，用的是原始点积；要把每一行除以它自己的范数，得到余弦相似度。")),
        (0.5 * (torch.nn.functional.cross_entropy(logits, labels) + torch.nn.functional.cross_entropy(logits.T, labels)),
         say(en="CLIP's softmax cross-entropy over rows and columns; SigLIP uses an independent sigmoid for every pair.",
             zh="用了 CLIP 在行和列上的 softmax 交叉熵；SigLIP 对每一对用独立的 sigmoid。")),
        (softplus64(-torch.eye(N, dtype=torch.float64) * logits).sum() / N,
         say(en="0/1 labels (the identity matrix); the labels are ±1: z = 2·eye(N) − 1.",
             zh="用了 0/1 标签（单位矩阵）；标签应是 ±1：z = 2·eye(N) − 1。"))))


def softplus64(u):
    """log(1 + e^u) in float64 without overflow: max(u, 0) + log1p(e^(−|u|))."""
    return u.clamp(min=0) + torch.log1p(torch.exp(-u.abs()))


def oracle(image, text, t, b):
    """The loss in float64 with explicit per-pair terms: −log σ(u) = softplus(−u)."""
    x, y = image.double(), text.double()
    x = x / torch.sqrt((x * x).sum(1, keepdim=True))
    y = y / torch.sqrt((y * y).sum(1, keepdim=True))
    N = x.size(0)
    logits = float(t) * (x @ y.T) + float(b)  # (N, N)
    total = torch.zeros((), dtype=torch.float64)
    for i in range(N):
        for j in range(N):
            z = 1.0 if i == j else -1.0
            total = total + softplus64(-z * logits[i, j])
    return total / N


def pairs(seed, N=5, D=8):
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(N, D, generator=g)
    text = 0.8 * image + torch.randn(N, D, generator=g)  # partly aligned
    return image, text


def test_matches_the_pairwise_oracle(impl):
    image, text = pairs(0)
    for t, b in ((10.0, -10.0), (1.0, 0.0), (torch.tensor(4.0), torch.tensor(1.5)), (6.0, -2.5)):
        got = impl.siglip_loss(image, text, t, b)
        what = f"siglip_loss(image (5, 8), text (5, 8), t={float(t):g}, b={float(b):g})"
        expect_tensor(got, what, shape=(), dtype=torch.float32)
        expect_scalar(got, oracle(image, text, t, b).float(), what, atol=1e-4, rtol=1e-4,
                      hint=say(en="Each pair is one binary decision: the label is +1 for (i, i) and −1 for i ≠ j, and it "
                                  "multiplies the whole logit t·cos + b (bias included). ",
                               zh="每一对是一个二分类决策：(i, i) 的标签为 +1，i ≠ j 的为 −1，标签乘的是整个 logit "
                                  "t·cos + b（包括偏置）。") + HINT,
                      likely=likely_siglip_mistakes(image, text, t, b))


def test_divided_by_n_not_n_squared(impl):
    # t = 0 and b = 0: every logit is 0, every pair costs log 2, so the loss is N²·log 2 / N = N·log 2.
    for N in (2, 5):
        image, text = pairs(1, N=N)
        got = impl.siglip_loss(image, text, 0.0, 0.0)
        expect_scalar(got, N * math.log(2), say(en=f"siglip_loss with t=0, b=0 and N={N} pairs",
                                                zh=f"t=0、b=0、N={N} 对时的 siglip_loss"), atol=1e-5, rtol=1e-5,
                      hint=say(en=f"All N² = {N * N} pairs have logit 0 and cost log 2 each; SigLIP sums them and "
                                  f"divides by N (= {N}), giving N·log 2 — not the mean over N² pairs (log 2). ",
                               zh=f"全部 N² = {N * N} 对的 logit 都是 0，每对损失 log 2；SigLIP 把它们求和再除以 N"
                                  f"（= {N}），得到 N·log 2——而不是 N² 对的平均（log 2）。") + HINT,
                      likely=likely_siglip_mistakes(image, text, 0.0, 0.0))


def test_bias_enters_every_pair_with_its_label(impl):
    # t = 0: positives cost softplus(−b), negatives softplus(b), so the loss is softplus(−b) + (N − 1)·softplus(b).
    N = 4
    image, text = pairs(2, N=N)
    for b in (-3.0, 2.0):
        want = math.log1p(math.exp(b)) * (N - 1) + math.log1p(math.exp(-b))
        expect_scalar(impl.siglip_loss(image, text, 0.0, b), want,
                      say(en=f"siglip_loss with t=0, b={b}, N={N}", zh=f"t=0、b={b}、N={N} 时的 siglip_loss"),
                      atol=1e-5, rtol=1e-5,
                      hint=say(en="With t = 0 every logit equals b: the N matching pairs cost −log σ(b) each and the "
                                  "N(N − 1) others −log σ(−b). Labels are ±1 (not 0/1) and multiply the logit including b. ",
                               zh="t = 0 时每个 logit 都等于 b：N 个匹配对每对损失 −log σ(b)，其余 N(N − 1) 对每对损失 "
                                  "−log σ(−b)。标签是 ±1（不是 0/1），并且乘的是包括 b 在内的整个 logit。") + HINT,
                      likely=likely_siglip_mistakes(image, text, 0.0, b))


def test_pairwise_sigmoid_not_softmax(impl):
    # Each pair's term depends on that pair alone. Appending a pair to the batch therefore adds exactly the terms of
    # the new row and column to N·loss and leaves the old pairs' terms unchanged; a softmax over rows or columns
    # would renormalize the old ones too.
    image, text = pairs(3, N=5)
    t, b = 5.0, -1.0
    small = impl.siglip_loss(image[:4], text[:4], t, b)
    full = impl.siglip_loss(image, text, t, b)
    x = image / image.norm(dim=1, keepdim=True)
    y = text / text.norm(dim=1, keepdim=True)
    logits = (t * (x.double() @ y.double().T) + b)
    added = softplus64(-logits[4, 4]) + softplus64(logits[4, :4]).sum() + softplus64(logits[:4, 4]).sum()
    expect_tensor(full, say(en="siglip_loss on 5 pairs", zh="5 对上的 siglip_loss"), shape=(), dtype=torch.float32)
    expect_close(5 * full.double().detach(), (4 * small.double().detach() + added),
                 say(en="5·siglip_loss(5 pairs) compared with 4·siglip_loss(first 4 pairs) + the new pairs' terms",
                     zh="5·siglip_loss(5 对) 与 4·siglip_loss(前 4 对) + 新增对的各项之和的对比"),
                 atol=1e-4, rtol=1e-4, check_dtype=False,
                 hint=say(en="SigLIP's terms are independent: adding a pair must not change the other pairs' terms. If "
                             "it does, a softmax (cross-entropy over a row or column) is normalizing across pairs. ",
                          zh="SigLIP 的各项相互独立：加入一对不能改变其他对的项。如果改变了，说明有 softmax"
                             "（在行或列上的交叉熵）在各对之间做了归一化。") + HINT)


def test_each_row_is_normalized_so_norms_do_not_matter(impl):
    image, text = pairs(4)
    g = torch.Generator().manual_seed(40)
    ri, rt = torch.rand(5, 1, generator=g) * 20 + 0.05, torch.rand(5, 1, generator=g) * 20 + 0.05
    got = impl.siglip_loss(image * ri, text * rt, 10.0, -10.0)
    expect_scalar(got, oracle(image, text, 10.0, -10.0).float(),
                  say(en="siglip_loss with each embedding multiplied by its own factor in [0.05, 20]",
                      zh="每个嵌入各自乘以 [0.05, 20] 内的因子后的 siglip_loss"), atol=1e-4, rtol=1e-4,
                  hint=say(en="Logits use cosine similarities: divide each row (dim=-1) by its own L2 norm first. ",
                           zh="logits 用的是余弦相似度：先把每一行（dim=-1）除以它自己的 L2 范数。") + HINT,
                  likely=likely_siglip_mistakes(image * ri, text * rt, 10.0, -10.0))


def test_symmetric_in_the_two_modalities(impl):
    image, text = pairs(5, N=4, D=3)
    a = impl.siglip_loss(image, text, 3.0, -1.0)
    c = impl.siglip_loss(text, image, 3.0, -1.0)
    expect_close(c, a.detach(), say(en="siglip_loss(text, image) compared with siglip_loss(image, text)",
                                    zh="siglip_loss(text, image) 与 siglip_loss(image, text) 的对比"), atol=1e-5,
                 rtol=1e-5, hint=say(en="Swapping the modalities transposes the logits; the labels are symmetric, so "
                                        "the loss must not change. ",
                                     zh="交换两种模态相当于转置 logits；标签是对称的，所以损失不能改变。") + HINT)


def test_finite_for_very_confident_mistakes(impl):
    # Near-duplicate couples at t = 120: the mismatched duplicates have logit ≈ 109 with label −1, and
    # σ(−109) underflows to 0 in float32, so log(sigmoid(·)) gives −inf.
    g = torch.Generator().manual_seed(6)
    image = torch.randn(3, 8, generator=g).repeat(2, 1) + 0.05 * torch.randn(6, 8, generator=g)
    text = image + 0.05 * torch.randn(6, 8, generator=g)
    got = impl.siglip_loss(image, text, 120.0, -10.0)
    expect_scalar(got, oracle(image, text, 120.0, -10.0).float(),
                  say(en="siglip_loss at t=120 with near-duplicate pairs (logits ≈ ±110)",
                      zh="t=120、存在近似重复对（logits ≈ ±110）时的 siglip_loss"), atol=1e-3, rtol=1e-4,
                  hint=say(en="log(sigmoid(u)) is −inf once σ(u) underflows (below u ≈ −88.7 in float32): use "
                              "F.logsigmoid(u) or −F.softplus(−u). ",
                           zh="σ(u) 一旦下溢（float32 下 u 低于约 −88.7），log(sigmoid(u)) 就是 −inf：要用 "
                              "F.logsigmoid(u) 或 −F.softplus(−u)。") + HINT)


def test_gradients_match_the_oracle(impl):
    image, text = pairs(7, N=4, D=5)
    xi, xt = image.clone().requires_grad_(True), text.clone().requires_grad_(True)
    loss = impl.siglip_loss(xi, xt, 4.0, -2.0)
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           say(en="siglip_loss's result carries no gradient — do not detach, call .item() or go through numpy",
               zh="siglip_loss 的结果不带梯度——不要 detach、调用 .item() 或经过 numpy"))
    loss.backward()
    oi, ot = image.double().requires_grad_(True), text.double().requires_grad_(True)
    oracle(oi, ot, 4.0, -2.0).backward()
    expect_close(xi.grad, oi.grad.float(), "∂siglip_loss/∂image_emb", atol=1e-5, rtol=1e-4,
                 hint=say(en="If the loss value is right but its gradient is not, part of it was detached: keep everything "
                             "in the graph (the normalization included). ",
                          zh="如果损失值对了而梯度不对，说明其中某部分被 detach 了：所有计算（包括归一化）都要留在计算图中。") + HINT)
    expect_close(xt.grad, ot.grad.float(), "∂siglip_loss/∂text_emb", atol=1e-5, rtol=1e-4,
                 hint=say(en="If the loss value is right but its gradient is not, part of it was detached: keep everything "
                             "in the graph (the normalization included). ",
                          zh="如果损失值对了而梯度不对，说明其中某部分被 detach 了：所有计算（包括归一化）都要留在计算图中。") + HINT)


def test_deterministic_and_inputs_unchanged(impl):
    image, text = pairs(8)
    before = image.clone(), text.clone()
    expect_deterministic(impl.siglip_loss, image, text, 2.0, -1.0, what="siglip_loss(image, text, 2.0, -1.0)")
    expect(torch.equal(image, before[0]) and torch.equal(text, before[1]),
           say(en="siglip_loss modified its inputs in place; normalize out of place (x / x.norm(...), not x /= ...).",
               zh="siglip_loss 原地修改了输入；要用非原地方式归一化（x / x.norm(...)，而不是 x /= ...）。"))


@given(st.integers(1, 5), st.integers(1, 5), st.floats(0.0, 20.0), st.floats(-10.0, 10.0), st.integers(0, 2**16))
def test_property_any_batch_and_width(impl, N, D, t, b, seed):
    g = torch.Generator().manual_seed(seed)
    image, text = torch.randn(N, D, generator=g), torch.randn(N, D, generator=g)
    expect_scalar(impl.siglip_loss(image, text, t, b), oracle(image, text, t, b).float(),
                  say(en=f"siglip_loss on N={N} pairs of width D={D}, t={t:.3g}, b={b:.3g}",
                      zh=f"N={N} 对、宽度 D={D}、t={t:.3g}、b={b:.3g} 时的 siglip_loss"), atol=1e-4, rtol=1e-4,
                  hint=HINT, likely=likely_siglip_mistakes(image, text, t, b))
