"""clip-loss: ½(CE(s·x̂ŷᵀ, arange N) + CE(s·ŷx̂ᵀ, arange N)) on L2-normalized (N, D) embeddings."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor, say

from _threads import one_thread  # noqa: F401  (autouse: every test here on one thread)

HINT = say(en="L2-normalize each ROW of both (N, D) inputs (x / x.norm(dim=-1, keepdim=True)), logits = logit_scale · "
              "image @ textᵀ with logit_scale used as the multiplier (not exp(logit_scale), not a division), then "
              "½(F.cross_entropy(logits, arange(N)) + F.cross_entropy(logits.T, arange(N))).",
           zh="对两个 (N, D) 输入的每一行做 L2 归一化（x / x.norm(dim=-1, keepdim=True)），logits = logit_scale · "
              "image @ textᵀ，logit_scale 直接作为乘数（不是 exp(logit_scale)，也不是除数），然后求 "
              "½(F.cross_entropy(logits, arange(N)) + F.cross_entropy(logits.T, arange(N)))。")


def oracle(image, text, scale):
    """The loss written out in float64: row-normalize, score, log-softmax over rows and over columns."""
    x, y = image.double(), text.double()
    x = x / torch.sqrt((x * x).sum(1, keepdim=True))
    y = y / torch.sqrt((y * y).sum(1, keepdim=True))
    logits = float(scale) * (x @ y.T)  # (N, N)
    diag = torch.diagonal(logits)
    image_to_text = (torch.logsumexp(logits, dim=1) - diag).mean()  # each image picks among the texts
    text_to_image = (torch.logsumexp(logits, dim=0) - diag).mean()  # each text picks among the images
    return 0.5 * (image_to_text + text_to_image)


def variant(image, text, scale, exp_scale=False, norm_dim=1, both=True, combine=0.5):
    """The loss with one of the usual mistakes (norm_dim=None: no normalization)."""
    x, y = image.double(), text.double()
    if norm_dim is not None:
        x = x / torch.sqrt((x * x).sum(norm_dim, keepdim=True))
        y = y / torch.sqrt((y * y).sum(norm_dim, keepdim=True))
    logits = (math.exp(float(scale)) if exp_scale else float(scale)) * (x @ y.T)
    diag = torch.diagonal(logits)
    image_to_text = (torch.logsumexp(logits, dim=1) - diag).mean()
    if not both:
        return image_to_text.float()
    return (combine * (image_to_text + (torch.logsumexp(logits, dim=0) - diag).mean())).float()


def likely_clip_mistakes(image, text, scale):
    """What the usual CLIP-loss mistakes give, each with its cause."""
    return ((variant(image, text, scale, exp_scale=True),
             say(en="logit_scale exponentiated; the argument already IS the multiplier s (CLIP's code stores log s "
                    "and calls .exp(), this function does not).",
                 zh="对 logit_scale 取了指数；参数本身就是乘数 s（CLIP 的代码存的是 log s 再调用 .exp()，这里不需要）。")),
            (variant(image, text, scale, both=False),
             say(en="only the image→text direction (rows); add the text→image cross-entropy over the columns and "
                    "average the two.",
                 zh="只算了图像→文本方向（按行）；还要加上按列的文本→图像交叉熵，再对两者取平均。")),
            (variant(image, text, scale, combine=1.0),
             say(en="the two directions summed; average them (½ each).",
                 zh="把两个方向的损失相加了；应取平均（各乘 ½）。")),
            (variant(image, text, scale, norm_dim=None),
             say(en="no L2 normalization: raw dot products; divide each row by its L2 norm so the logits are scaled "
                    "cosine similarities.",
                 zh="没有做 L2 归一化，用了原始点积；要把每一行除以它的 L2 范数，让 logits 是缩放后的余弦相似度。")),
            (variant(image, text, scale, norm_dim=0),
             say(en="normalized along dim=0 (each feature over the batch); normalize each embedding along its features "
                    "(dim=-1).",
                 zh="沿 dim=0 归一化了（每个特征在 batch 上归一化）；应对每个嵌入沿特征维（dim=-1）归一化。")))


def pairs(seed, N=6, D=8):
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(N, D, generator=g)
    text = 0.6 * image + torch.randn(N, D, generator=g)  # partly aligned: the diagonal tends to win
    return image, text


def test_matches_the_cross_entropy_oracle(impl):
    image, text = pairs(0)
    for scale in (1.0, 7.5, torch.tensor(14.3)):
        got = impl.clip_loss(image, text, scale)
        what = f"clip_loss(image (6, 8), text (6, 8), logit_scale={float(scale):g})"
        expect_tensor(got, what, shape=(), dtype=torch.float32)
        expect_scalar(got, oracle(image, text, scale).float(), what, atol=1e-4, rtol=1e-4,
                      hint=say(en="Use logit_scale as the multiplier itself — CLIP's code stores log(s) and calls "
                                  ".exp(), but here the argument already IS s; and average the two directions (½, not a "
                                  "sum). " + HINT.en,
                               zh="直接把 logit_scale 当作乘数——CLIP 的代码存的是 log(s) 再调用 .exp()，但这里的参数"
                                  "本身就是 s；两个方向要取平均（乘 ½，不是相加）。" + HINT.zh),
                      likely=likely_clip_mistakes(image, text, scale))


def test_scale_zero_gives_log_n(impl):
    # All logits 0: both softmaxes are uniform over N, so each direction costs log N.
    for N in (3, 7):
        image, text = pairs(1, N=N)
        got = impl.clip_loss(image, text, 0.0)
        expect_scalar(got, math.log(N), say(en=f"clip_loss with logit_scale=0 and N={N} pairs",
                                            zh=f"logit_scale=0、N={N} 对时的 clip_loss"), atol=1e-5, rtol=1e-5,
                      hint=say(en="With every logit 0 the cross-entropy of each row and each column is log N. "
                                  "A different value means the scale is not a plain multiplier (exp(0) = 1 is not 0) "
                                  "or the loss is not a mean of cross-entropies. " + HINT.en,
                               zh="所有 logit 都为 0 时，每一行、每一列的交叉熵都是 log N。结果不同说明 scale 不是"
                                  "简单的乘数（exp(0) = 1 不是 0），或者损失不是交叉熵的平均。" + HINT.zh),
                      likely=likely_clip_mistakes(image, text, 0.0))


def test_symmetric_in_the_two_modalities(impl):
    image, text = pairs(2, N=5, D=4)
    a = impl.clip_loss(image, text, 3.0)
    b = impl.clip_loss(text, image, 3.0)
    expect_tensor(b, "clip_loss(text, image, 3.0)", shape=(), dtype=torch.float32)
    expect_close(b, a.detach(), say(en="clip_loss(text, image, s) compared with clip_loss(image, text, s)",
                                    zh="clip_loss(text, image, s) 与 clip_loss(image, text, s) 的比较"), atol=1e-5,
                 rtol=1e-5,
                 hint=say(en="Swapping the modalities transposes the logits, so the symmetric loss must not change. "
                             "A difference means only one direction is counted (image→text rows but not text→image "
                             "columns), or the two are weighted differently. " + HINT.en,
                          zh="交换两个模态相当于转置 logits，对称的损失不应改变。出现差异说明只算了一个方向（按行的"
                             "图像→文本，而没有按列的文本→图像），或者两个方向的权重不同。" + HINT.zh))
    expect_scalar(a, oracle(image, text, 3.0).float(), "clip_loss(image (5, 4), text (5, 4), 3.0)", atol=1e-4,
                  rtol=1e-4, hint=HINT, likely=likely_clip_mistakes(image, text, 3.0))


def test_each_row_is_normalized_so_norms_do_not_matter(impl):
    image, text = pairs(3)
    g = torch.Generator().manual_seed(30)
    row_scale_i = torch.rand(6, 1, generator=g) * 20 + 0.05  # each embedding rescaled by its own factor
    row_scale_t = torch.rand(6, 1, generator=g) * 20 + 0.05
    want = oracle(image, text, 5.0).float()
    got = impl.clip_loss(image * row_scale_i, text * row_scale_t, 5.0)
    expect_scalar(got, want, say(en="clip_loss with each embedding multiplied by its own factor in [0.05, 20]",
                                 zh="每个嵌入各乘以 [0.05, 20] 内的一个系数后的 clip_loss"),
                  atol=1e-4, rtol=1e-4,
                  hint=say(en="The loss depends on cosine similarities only: divide each row (dim=-1) by its own L2 "
                              "norm before the matrix product — not the whole matrix, not each column (dim=0). "
                              + HINT.en,
                           zh="损失只取决于余弦相似度：在矩阵乘法之前把每一行（dim=-1）除以它自己的 L2 范数——不是"
                              "除以整个矩阵的范数，也不是按列（dim=0）归一化。" + HINT.zh),
                  likely=likely_clip_mistakes(image * row_scale_i, text * row_scale_t, 5.0))


def test_stable_at_clips_largest_scale(impl):
    # s = 100 (CLIP clamps its scale there): well-trained pairs have cosines near 1, and logits near 100
    # overflow exp() in float32 (e^89 > 3.4e38).
    # Pairs come in near-duplicate couples, so each row has two logits near 100 and the loss is not ≈ 0.
    g = torch.Generator().manual_seed(4)
    image = torch.randn(3, 8, generator=g).repeat(2, 1) + 0.1 * torch.randn(6, 8, generator=g)
    text = image + 0.1 * torch.randn(6, 8, generator=g)  # diagonal cosines ≈ 0.99
    got = impl.clip_loss(image, text, 100.0)
    expect_scalar(got, oracle(image, text, 100.0).float(), "clip_loss(logit_scale=100)", atol=2e-3, rtol=1e-4,
                  hint=say(en="exp(100) overflows float32: use F.cross_entropy / torch.logsumexp / log_softmax, which "
                              "subtract the maximum, instead of exp(logits) / exp(logits).sum(). " + HINT.en,
                           zh="exp(100) 在 float32 下会溢出：应使用会先减去最大值的 F.cross_entropy / torch.logsumexp / "
                              "log_softmax，而不是 exp(logits) / exp(logits).sum()。" + HINT.zh),
                  likely=likely_clip_mistakes(image, text, 100.0))


def test_aligned_pairs_at_large_scale_cost_almost_nothing(impl):
    # Orthogonal unit vectors, text = image: the diagonal logit is s, every other logit 0,
    # so each direction costs log(1 + (N − 1)·e^(−s)).
    N, D, s = 4, 6, 30.0
    q, _ = torch.linalg.qr(torch.randn(D, D, generator=torch.Generator().manual_seed(5)))
    image = 3.0 * q[:N].contiguous()
    got = impl.clip_loss(image, image.clone(), s)
    want = math.log1p((N - 1) * math.exp(-s))
    expect_scalar(got, want, say(en="clip_loss for perfectly aligned, mutually orthogonal pairs at logit_scale=30",
                                 zh="logit_scale=30 时完全对齐且两两正交的配对的 clip_loss"),
                  atol=1e-6, rtol=1e-3,
                  hint=say(en="With text = image and orthogonal rows the diagonal logit is s and the others 0, so the "
                              "loss is log(1 + (N − 1)e^(−s)) ≈ 0. The labels are arange(N): pair i sits on the "
                              "diagonal. " + HINT.en,
                           zh="text = image 且各行正交时，对角线上的 logit 为 s，其余为 0，所以损失是 "
                              "log(1 + (N − 1)e^(−s)) ≈ 0。标签是 arange(N)：第 i 对在对角线上。" + HINT.zh),
                  likely=likely_clip_mistakes(image, image, s))


def test_gradients_match_the_oracle(impl):
    image, text = pairs(6, N=4, D=5)
    xi, xt = image.clone().requires_grad_(True), text.clone().requires_grad_(True)
    loss = impl.clip_loss(xi, xt, 4.0)
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           say(en="clip_loss's result carries no gradient — do not detach, call .item() or go through numpy",
               zh="clip_loss 的结果不带梯度——不要 detach、调用 .item() 或经过 numpy"))
    loss.backward()
    oi, ot = image.double().requires_grad_(True), text.double().requires_grad_(True)
    oracle(oi, ot, 4.0).backward()
    expect_close(xi.grad, oi.grad.float(), "∂clip_loss/∂image_emb", atol=1e-5, rtol=1e-4,
                 hint=say(en="The gradient must flow through the normalization too (F.normalize or x / x.norm(...), "
                             "not a detached norm). " + HINT.en,
                          zh="梯度也必须经过归一化回传（用 F.normalize 或 x / x.norm(...)，范数不要 detach）。" + HINT.zh))
    expect_close(xt.grad, ot.grad.float(), "∂clip_loss/∂text_emb", atol=1e-5, rtol=1e-4, hint=HINT)


def test_deterministic_and_inputs_unchanged(impl):
    image, text = pairs(7)
    before = image.clone(), text.clone()
    expect_deterministic(impl.clip_loss, image, text, 2.0, what="clip_loss(image, text, 2.0)")
    impl.clip_loss(image, text, 2.0)
    expect(torch.equal(image, before[0]) and torch.equal(text, before[1]),
           say(en="clip_loss modified its inputs in place; normalize out of place (x / x.norm(...), not x /= ... or "
                  "x.div_(...)).",
               zh="clip_loss 原地修改了输入；要用非原地方式归一化（x / x.norm(...)，不要用 x /= ... 或 x.div_(...)）。"))


@given(st.integers(1, 5), st.integers(1, 5), st.floats(0.0, 20.0), st.integers(0, 2**16))
def test_property_any_batch_and_width(impl, N, D, scale, seed):
    g = torch.Generator().manual_seed(seed)
    image, text = torch.randn(N, D, generator=g), torch.randn(N, D, generator=g)
    expect_scalar(impl.clip_loss(image, text, scale), oracle(image, text, scale).float(),
                  say(en=f"clip_loss on N={N} pairs of width D={D}, logit_scale={scale:.3g}",
                      zh=f"N={N} 对、宽度 D={D}、logit_scale={scale:.3g} 时的 clip_loss"), atol=1e-4, rtol=1e-4,
                  hint=HINT, likely=likely_clip_mistakes(image, text, scale))
