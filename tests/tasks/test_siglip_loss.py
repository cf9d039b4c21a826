"""siglip-loss: −(1/N) Σ_ij log σ(z_ij (t·x̂_iᵀŷ_j + b)), z = +1 on the diagonal and −1 off it."""
import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor

from _threads import one_thread  # noqa: F401  (autouse: every test here on one thread)

HINT = ("L2-normalize each ROW of both (N, D) inputs, logits = t · image @ textᵀ + b (t is the multiplier "
        "itself), labels z = 2·eye(N) − 1 (+1 for matching pairs, −1 for all others), then "
        "−F.logsigmoid(z * logits).sum() / N: one sigmoid per pair, summed over all N² pairs, divided by N.")


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
                      hint="Each pair is one binary decision: the label is +1 for (i, i) and −1 for i ≠ j, and it "
                           "multiplies the whole logit t·cos + b (bias included). " + HINT)


def test_divided_by_n_not_n_squared(impl):
    # t = 0 and b = 0: every logit is 0, every pair costs log 2, so the loss is N²·log 2 / N = N·log 2.
    for N in (2, 5):
        image, text = pairs(1, N=N)
        got = impl.siglip_loss(image, text, 0.0, 0.0)
        expect_scalar(got, N * math.log(2), f"siglip_loss with t=0, b=0 and N={N} pairs", atol=1e-5, rtol=1e-5,
                      hint=f"All N² = {N * N} pairs have logit 0 and cost log 2 each; SigLIP sums them and divides "
                           f"by N (= {N}), giving N·log 2 — not the mean over N² pairs (log 2). " + HINT)


def test_bias_enters_every_pair_with_its_label(impl):
    # t = 0: positives cost softplus(−b), negatives softplus(b), so the loss is softplus(−b) + (N − 1)·softplus(b).
    N = 4
    image, text = pairs(2, N=N)
    for b in (-3.0, 2.0):
        want = math.log1p(math.exp(b)) * (N - 1) + math.log1p(math.exp(-b))
        expect_scalar(impl.siglip_loss(image, text, 0.0, b), want, f"siglip_loss with t=0, b={b}, N={N}",
                      atol=1e-5, rtol=1e-5,
                      hint="With t = 0 every logit equals b: the N matching pairs cost −log σ(b) each and the "
                           "N(N − 1) others −log σ(−b). Labels are ±1 (not 0/1) and multiply the logit including b. "
                           + HINT)


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
    expect_tensor(full, "siglip_loss on 5 pairs", shape=(), dtype=torch.float32)
    expect_close(5 * full.double().detach(), (4 * small.double().detach() + added),
                 "5·siglip_loss(5 pairs) compared with 4·siglip_loss(first 4 pairs) + the new pairs' terms",
                 atol=1e-4, rtol=1e-4, check_dtype=False,
                 hint="SigLIP's terms are independent: adding a pair must not change the other pairs' terms. If it "
                      "does, a softmax (cross-entropy over a row or column) is normalizing across pairs. " + HINT)


def test_each_row_is_normalized_so_norms_do_not_matter(impl):
    image, text = pairs(4)
    g = torch.Generator().manual_seed(40)
    ri, rt = torch.rand(5, 1, generator=g) * 20 + 0.05, torch.rand(5, 1, generator=g) * 20 + 0.05
    got = impl.siglip_loss(image * ri, text * rt, 10.0, -10.0)
    expect_scalar(got, oracle(image, text, 10.0, -10.0).float(),
                  "siglip_loss with each embedding multiplied by its own factor in [0.05, 20]", atol=1e-4, rtol=1e-4,
                  hint="Logits use cosine similarities: divide each row (dim=-1) by its own L2 norm first. " + HINT)


def test_symmetric_in_the_two_modalities(impl):
    image, text = pairs(5, N=4, D=3)
    a = impl.siglip_loss(image, text, 3.0, -1.0)
    c = impl.siglip_loss(text, image, 3.0, -1.0)
    expect_close(c, a.detach(), "siglip_loss(text, image) compared with siglip_loss(image, text)", atol=1e-5,
                 rtol=1e-5, hint="Swapping the modalities transposes the logits; the labels are symmetric, so the "
                                 "loss must not change. " + HINT)


def test_finite_for_very_confident_mistakes(impl):
    # Near-duplicate couples at t = 120: the mismatched duplicates have logit ≈ 109 with label −1, and
    # σ(−109) underflows to 0 in float32, so log(sigmoid(·)) gives −inf.
    g = torch.Generator().manual_seed(6)
    image = torch.randn(3, 8, generator=g).repeat(2, 1) + 0.05 * torch.randn(6, 8, generator=g)
    text = image + 0.05 * torch.randn(6, 8, generator=g)
    got = impl.siglip_loss(image, text, 120.0, -10.0)
    expect_scalar(got, oracle(image, text, 120.0, -10.0).float(),
                  "siglip_loss at t=120 with near-duplicate pairs (logits ≈ ±110)", atol=1e-3, rtol=1e-4,
                  hint="log(sigmoid(u)) is −inf once σ(u) underflows (below u ≈ −88.7 in float32): use F.logsigmoid(u) "
                       "or −F.softplus(−u). " + HINT)


def test_gradients_match_the_oracle(impl):
    image, text = pairs(7, N=4, D=5)
    xi, xt = image.clone().requires_grad_(True), text.clone().requires_grad_(True)
    loss = impl.siglip_loss(xi, xt, 4.0, -2.0)
    expect(isinstance(loss, torch.Tensor) and loss.requires_grad,
           "siglip_loss's result carries no gradient — do not detach, call .item() or go through numpy")
    loss.backward()
    oi, ot = image.double().requires_grad_(True), text.double().requires_grad_(True)
    oracle(oi, ot, 4.0, -2.0).backward()
    expect_close(xi.grad, oi.grad.float(), "∂siglip_loss/∂image_emb", atol=1e-5, rtol=1e-4, hint=HINT)
    expect_close(xt.grad, ot.grad.float(), "∂siglip_loss/∂text_emb", atol=1e-5, rtol=1e-4, hint=HINT)


def test_deterministic_and_inputs_unchanged(impl):
    image, text = pairs(8)
    before = image.clone(), text.clone()
    expect_deterministic(impl.siglip_loss, image, text, 2.0, -1.0, what="siglip_loss(image, text, 2.0, -1.0)")
    expect(torch.equal(image, before[0]) and torch.equal(text, before[1]),
           "siglip_loss modified its inputs in place; normalize out of place (x / x.norm(...), not x /= ...).")


@given(st.integers(1, 5), st.integers(1, 5), st.floats(0.0, 20.0), st.floats(-10.0, 10.0), st.integers(0, 2**16))
def test_property_any_batch_and_width(impl, N, D, t, b, seed):
    g = torch.Generator().manual_seed(seed)
    image, text = torch.randn(N, D, generator=g), torch.randn(N, D, generator=g)
    expect_scalar(impl.siglip_loss(image, text, t, b), oracle(image, text, t, b).float(),
                  f"siglip_loss on N={N} pairs of width D={D}, t={t:.3g}, b={b:.3g}", atol=1e-4, rtol=1e-4,
                  hint=HINT)
