"""scaled-dot-product-attention: softmax(q kᵀ/√d) v with a boolean mask (True = may attend)."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

HINT = "weights = softmax(q @ kᵀ / √d) over the LAST dim (the keys); out = weights @ v."


def oracle(q, k, v, mask=None):
    out = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), attn_mask=mask)
    scores = q.double() @ k.double().transpose(-2, -1) / q.size(-1) ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return out.float(), scores.softmax(-1).float()


def likely_weight_mistakes(q, k):
    """What common mistakes give for the weights, each with its cause (genprep.learner.checks.expect_close(likely=...))."""
    raw = q.double() @ k.double().transpose(-2, -1)
    d = q.size(-1)
    return (((raw / d ** 0.5).softmax(-2).float(), "a softmax over the queries (dim=-2) gives; take it over the keys, dim=-1."),
            (raw.softmax(-1).float(), "unscaled scores give; divide q @ kᵀ by √d before the softmax."),
            ((raw / d).softmax(-1).float(), "dividing by d gives; divide by √d."))


def call(impl, q, k, v, mask=None):
    result = impl.scaled_dot_product_attention(q, k, v, mask) if mask is not None \
        else impl.scaled_dot_product_attention(q, k, v)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"scaled_dot_product_attention should return a tuple (out, weights), got {type(result).__name__}")
    return result


def test_matches_pytorch_without_mask(impl):
    g = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(2, 3, 4, 8, generator=g), torch.randn(2, 3, 6, 8, generator=g), torch.randn(2, 3, 6, 5, generator=g)
    out, weights = expect_deterministic(lambda *a: call(impl, *a), q, k, v, what="scaled_dot_product_attention(q, k, v)")
    want_out, want_w = oracle(q, k, v)
    expect_close(weights, want_w, "attention weights for q (2,3,4,8), k (2,3,6,8)", atol=1e-5, hint=HINT,
                 likely=likely_weight_mistakes(q, k))
    expect_close(out, want_out, "attention output (Lq=4, dv=5)", atol=1e-5, hint=HINT)


def test_scaling_uses_sqrt_of_the_key_dimension(impl):
    # Large d and large scores: a missing or wrong scale changes the result a lot.
    g = torch.Generator().manual_seed(1)
    q, k, v = 2 * torch.randn(1, 3, 64, generator=g), 2 * torch.randn(1, 5, 64, generator=g), torch.randn(1, 5, 2, generator=g)
    _, weights = call(impl, q, k, v)
    expect_close(weights, oracle(q, k, v)[1], "attention weights with d = 64", atol=1e-5,
                 hint="Divide the scores by √d (d = q.size(-1) = 64, so by 8) before the softmax.",
                 likely=likely_weight_mistakes(q, k))


def test_rows_sum_to_one_and_masked_weights_are_zero(impl):
    g = torch.Generator().manual_seed(2)
    q, k, v = torch.randn(2, 5, 4, generator=g), torch.randn(2, 5, 4, generator=g), torch.randn(2, 5, 3, generator=g)
    mask = torch.rand(2, 5, 5, generator=g) > 0.4
    mask[..., 0] = True  # every row may attend somewhere
    out, weights = call(impl, q, k, v, mask)
    expect_tensor(weights, "attention weights", shape=(2, 5, 5), dtype=torch.float32)
    sums = weights.sum(-1)
    worst = int((sums - 1).abs().argmax())
    expect(bool(torch.allclose(sums, torch.ones_like(sums), atol=1e-5)),
           f"rows of the attention weights must sum to 1; row {worst} sums to {sums.flatten()[worst].item():.4g} — "
           "is the softmax over the right dimension (the keys, dim=-1), and applied after masking?")
    expect(bool((weights[~mask] == 0).all()),
           f"masked positions (mask False) must get weight exactly 0; the largest is {weights[~mask].abs().max().item():.3g} — "
           "fill masked scores with -inf BEFORE the softmax.")
    want_out, want_w = oracle(q, k, v, mask)
    expect_close(weights, want_w, "masked attention weights", atol=1e-5, hint=HINT)
    expect_close(out, want_out, "masked attention output", atol=1e-5, hint=HINT)


def test_mask_broadcasts_over_batch_and_heads(impl):
    g = torch.Generator().manual_seed(3)
    q, k, v = torch.randn(2, 2, 4, 3, generator=g), torch.randn(2, 2, 4, 3, generator=g), torch.randn(2, 2, 4, 3, generator=g)
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    out, weights = call(impl, q, k, v, causal)
    want_out, want_w = oracle(q, k, v, causal)
    expect_close(weights, want_w, "weights with a (4, 4) causal mask broadcast over (B, H)", atol=1e-5, hint=HINT)
    expect_close(out, want_out, "output with a (4, 4) causal mask", atol=1e-5, hint=HINT)


@st.composite
def attention_case(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    lq, lk, d, dv = (draw(st.integers(1, 5)) for _ in range(4))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, lq, d, generator=g)
    k, v = torch.randn(*batch, lk, d, generator=g), torch.randn(*batch, lk, dv, generator=g)
    mask = None
    if draw(st.booleans()):
        mask = torch.rand(lq, lk, generator=g) > 0.5
        mask[:, draw(st.integers(0, lk - 1))] = True  # rows with no allowed position are not tested
    return q, k, v, mask


@given(attention_case())
def test_property_any_shape_and_mask(impl, case):
    q, k, v, mask = case
    out, weights = call(impl, q, k, v, mask)
    want_out, want_w = oracle(q, k, v, mask)
    shape = f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}, mask {None if mask is None else tuple(mask.shape)}"
    expect_close(weights, want_w, f"attention weights for {shape}", atol=1e-5, hint=HINT)
    expect_close(out, want_out, f"attention output for {shape}", atol=1e-5, hint=HINT)
