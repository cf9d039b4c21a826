"""scaled-dot-product-attention: softmax(q kᵀ/√d) v with a boolean mask (True = may attend)."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say, usual_cause

HINT = say(en="weights = softmax(q @ kᵀ / √d) over the LAST dim (the keys); out = weights @ v.",
           zh="weights = softmax(q @ kᵀ / √d)，在最后一维（键）上做 softmax；out = weights @ v。")
OUTPUT = say(en="The weights are right but the output is not: out = weights @ v (weights (…, Lq, Lk) times v (…, Lk, dv)).",
             zh="注意力权重对了，输出却不对：out = weights @ v（权重 (…, Lq, Lk) 乘以值 v (…, Lk, dv)）。")
MASK = say(en="Fill masked scores (mask False) with -inf BEFORE the softmax, so each row is renormalized over the "
              "allowed keys; the (Lq, Lk) mask broadcasts over the batch and head dims.",
           zh="在 softmax 之前把被掩码的分数（mask 为 False）填成 -inf，这样每行只在允许的键上重新归一化；"
              "(Lq, Lk) 的掩码会在 batch 和头的维度上广播。")


def oracle(q, k, v, mask=None):
    out = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), attn_mask=mask)
    scores = q.double() @ k.double().transpose(-2, -1) / q.size(-1) ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return out.float(), scores.softmax(-1).float()


def likely_weight_mistakes(q, k, mask=None):
    """What common mistakes give for the weights, each with its cause (genprep.learner.checks.expect_close(likely=...))."""
    raw = q.double() @ k.double().transpose(-2, -1)
    d = q.size(-1)
    scaled = raw / d ** 0.5

    def masked(x):
        return x if mask is None else x.masked_fill(~mask, float("-inf"))

    e = (masked(scaled) - masked(scaled).amax(dim=(-2, -1), keepdim=True)).exp()
    out = [(masked(scaled).softmax(-2).float(),
            say(en="a softmax over the queries (dim=-2); take it over the keys, dim=-1.",
                zh="在查询维（dim=-2）上做了 softmax；应在键维 dim=-1 上做。")),
           (masked(raw).softmax(-1).float(),
            say(en="unscaled scores; divide q @ kᵀ by √d before the softmax.",
                zh="分数没有缩放；softmax 之前要把 q @ kᵀ 除以 √d。")),
           (masked(raw / d).softmax(-1).float(),
            say(en="dividing by d; divide by √d.", zh="除以了 d；应除以 √d。")),
           ((e / e.sum(dim=(-2, -1), keepdim=True)).float(),
            say(en="normalizing over the whole score matrix; the softmax runs over each row (the keys, dim=-1) alone.",
                zh="在整个分数矩阵上归一化；softmax 应在每一行（键维，dim=-1）上单独做。")),
           ((scaled if mask is None else scaled.masked_fill(~mask, 0.0)).float(),
            say(en="the scaled scores used as weights, with no softmax; apply softmax over the keys (dim=-1).",
                zh="直接把缩放后的分数当作权重，没有做 softmax；应在键维（dim=-1）上做 softmax。"))]
    if mask is not None:
        out.append((scaled.softmax(-1).masked_fill(~mask, 0.0).float(),
                    say(en="masking AFTER the softmax (zeroing weights) leaves rows that no longer sum to 1; fill masked "
                           "scores with -inf before the softmax.",
                        zh="在 softmax 之后才做掩码（把权重置零），各行之和就不再是 1；应在 softmax 之前把被掩码的分数填成 -inf。")))
    return tuple(out)


def call(impl, q, k, v, mask=None):
    result = impl.scaled_dot_product_attention(q, k, v, mask) if mask is not None \
        else impl.scaled_dot_product_attention(q, k, v)
    expect(isinstance(result, tuple) and len(result) == 2,
           say(en=f"scaled_dot_product_attention should return a tuple (out, weights), got {type(result).__name__}",
               zh=f"scaled_dot_product_attention 应返回元组 (out, weights)，实际返回的是 {type(result).__name__}"))
    return result


def test_matches_pytorch_without_mask(impl):
    g = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(2, 3, 4, 8, generator=g), torch.randn(2, 3, 6, 8, generator=g), torch.randn(2, 3, 6, 5, generator=g)
    out, weights = expect_deterministic(lambda *a: call(impl, *a), q, k, v, what="scaled_dot_product_attention(q, k, v)")
    want_out, want_w = oracle(q, k, v)
    expect_close(weights, want_w, say(en="attention weights for q (2,3,4,8), k (2,3,6,8)",
                                      zh="q (2,3,4,8)、k (2,3,6,8) 的注意力权重"), atol=1e-5, hint=HINT,
                 likely=likely_weight_mistakes(q, k))
    expect_close(out, want_out, say(en="attention output (Lq=4, dv=5)", zh="注意力输出（Lq=4，dv=5）"), atol=1e-5,
                 hint=OUTPUT)


def test_scaling_uses_sqrt_of_the_key_dimension(impl):
    # Large d and large scores: a missing or wrong scale changes the result a lot.
    g = torch.Generator().manual_seed(1)
    q, k, v = 2 * torch.randn(1, 3, 64, generator=g), 2 * torch.randn(1, 5, 64, generator=g), torch.randn(1, 5, 2, generator=g)
    _, weights = call(impl, q, k, v)
    expect_close(weights, oracle(q, k, v)[1], say(en="attention weights with d = 64", zh="d = 64 时的注意力权重"),
                 atol=1e-5,
                 hint=say(en="Divide the scores by √d (d = q.size(-1) = 64, so by 8) before the softmax.",
                          zh="softmax 之前把分数除以 √d（d = q.size(-1) = 64，即除以 8）。"),
                 likely=likely_weight_mistakes(q, k))


def test_rows_sum_to_one_and_masked_weights_are_zero(impl):
    g = torch.Generator().manual_seed(2)
    q, k, v = torch.randn(2, 5, 4, generator=g), torch.randn(2, 5, 4, generator=g), torch.randn(2, 5, 3, generator=g)
    mask = torch.rand(2, 5, 5, generator=g) > 0.4
    mask[..., 0] = True  # every row may attend somewhere
    out, weights = call(impl, q, k, v, mask)
    expect_tensor(weights, say(en="attention weights", zh="注意力权重"), shape=(2, 5, 5), dtype=torch.float32)
    sums = weights.sum(-1)
    worst = int((sums - 1).abs().argmax())
    total = sums.flatten()[worst].item()
    expect(bool((weights[~mask] == 0).all()),
           say(en=f"masked positions (mask False) must get weight exactly 0; the largest is "
                  f"{weights[~mask].abs().max().item():.3g} — fill masked scores with -inf BEFORE the softmax.",
               zh=f"被掩码的位置（mask 为 False）权重必须恰好为 0；现在最大的是 {weights[~mask].abs().max().item():.3g}"
                  "——在 softmax 之前把被掩码的分数填成 -inf。"))
    cause = usual_cause(weights, likely_weight_mistakes(q, k, mask),
                        say(en="is the softmax there, over the keys (dim=-1), after masking the scores?",
                            zh="softmax 有没有做、是否在键维（dim=-1）上、是否在对分数做掩码之后？"))
    expect(bool(torch.allclose(sums, torch.ones_like(sums), atol=1e-5)),
           say(en=f"rows of the attention weights must sum to 1; row {worst} sums to {total:.4g} — {cause.en}",
               zh=f"注意力权重的每一行之和必须为 1；第 {worst} 行之和是 {total:.4g}——{cause.zh}"))
    want_out, want_w = oracle(q, k, v, mask)
    expect_close(weights, want_w, say(en="masked attention weights", zh="带掩码的注意力权重"), atol=1e-5, hint=MASK,
                 likely=likely_weight_mistakes(q, k, mask))
    expect_close(out, want_out, say(en="masked attention output", zh="带掩码的注意力输出"), atol=1e-5, hint=OUTPUT)


def test_mask_broadcasts_over_batch_and_heads(impl):
    g = torch.Generator().manual_seed(3)
    q, k, v = torch.randn(2, 2, 4, 3, generator=g), torch.randn(2, 2, 4, 3, generator=g), torch.randn(2, 2, 4, 3, generator=g)
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    out, weights = call(impl, q, k, v, causal)
    want_out, want_w = oracle(q, k, v, causal)
    expect_close(weights, want_w, say(en="weights with a (4, 4) causal mask broadcast over (B, H)",
                                      zh="(4, 4) 因果掩码在 (B, H) 上广播时的权重"), atol=1e-5, hint=MASK,
                 likely=likely_weight_mistakes(q, k, causal))
    expect_close(out, want_out, say(en="output with a (4, 4) causal mask", zh="(4, 4) 因果掩码下的输出"), atol=1e-5,
                 hint=OUTPUT)


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
    expect_close(weights, want_w, say(en=f"attention weights for {shape}", zh=f"{shape} 的注意力权重"), atol=1e-5,
                 hint=HINT, likely=likely_weight_mistakes(q, k, mask))
    expect_close(out, want_out, say(en=f"attention output for {shape}", zh=f"{shape} 的注意力输出"), atol=1e-5,
                 hint=OUTPUT)
