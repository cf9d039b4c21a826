"""grouped-query-attention: query head h uses kv head h // (Hq // Hkv); equals SDPA on repeat_interleave'd k, v."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

HINT = ("Query head h uses kv head h // (Hq // Hkv): expand k and v with k.repeat_interleave(Hq // Hkv, dim=1) "
        "(or view q as (B, Hkv, G, L, d)), then softmax(q kᵀ / √d) v with the softmax over the keys (dim=-1).")


def oracle(q, k, v, mask=None, expand=torch.repeat_interleave):
    """SDPA in float64 on k, v expanded to Hq heads (consecutive query heads share a kv head)."""
    group = q.size(1) // k.size(1)
    kk, vv = expand(k.double(), group, dim=1), expand(v.double(), group, dim=1)
    return F.scaled_dot_product_attention(q.double(), kk, vv, attn_mask=mask).float()


def tiled(x, group, dim):
    """The WRONG grouping: x.repeat puts kv head h % Hkv under query head h."""
    reps = [1] * x.dim()
    reps[dim] = group
    return x.repeat(*reps)


def qkv(B, Hq, Hkv, L, S, d, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, Hq, L, d, generator=g), torch.randn(B, Hkv, S, d, generator=g),
            torch.randn(B, Hkv, S, d, generator=g))


def check(impl, q, k, v, mask, what, atol=1e-5):
    got = impl.grouped_query_attention(q, k, v) if mask is None else impl.grouped_query_attention(q, k, v, mask)
    B, Hq, L, d = q.shape
    expect_tensor(got, what, shape=(B, Hq, L, d), dtype=torch.float32)
    want, hint = oracle(q, k, v, mask), HINT
    wrong = not torch.allclose(got.double(), want.double(), atol=atol, rtol=1e-4)
    if wrong and k.size(1) not in (1, Hq) and torch.allclose(got, oracle(q, k, v, mask, expand=tiled), atol=1e-4):
        hint = ("Your output pairs query head h with kv head h % Hkv (k.repeat tiles the heads, or q was viewed as "
                "(B, G, Hkv, L, d)); the contract groups CONSECUTIVE query heads: kv head h // (Hq // Hkv), as "
                "repeat_interleave. " + HINT)
    if wrong and mask is not None:
        inverted = ~torch.broadcast_to(mask, (B, Hq, L, k.size(2)))
        if bool(inverted.any(-1).all()):  # the inverted mask leaves every row a key, so it has a finite oracle
            if torch.allclose(got.double(), oracle(q, k, v, inverted).double(), atol=1e-4, rtol=1e-3):
                hint = ("Your output matches attention with the mask INVERTED: here True means may attend (as in "
                        "F.scaled_dot_product_attention), so fill the scores where the mask is False. " + HINT)
        elif not bool(torch.isfinite(got).all()):
            hint = ("Your output has NaN/inf where the mask leaves keys to attend to: True means may attend, so fill "
                    "the scores with −inf where the mask is False (not where it is True). " + HINT)
    expect_close(got, want, what, atol=atol, rtol=1e-4, hint=hint)
    return got


def test_grouped_heads_match_sdpa_on_repeat_interleaved_kv(impl):
    q, k, v = qkv(2, 6, 2, 5, 5, 4, seed=0)
    check(impl, q, k, v, None, "grouped_query_attention(q (2, 6, 5, 4), k, v (2, 2, 5, 4))")


def test_grouping_is_interleaved_not_tiled(impl):
    # 6 query heads, 3 distinct kv heads: heads 0,1 -> kv 0; 2,3 -> kv 1; 4,5 -> kv 2 (tiling would give 0,1,2,0,1,2).
    q, k, v = qkv(1, 6, 3, 4, 7, 5, seed=1)
    got = check(impl, q, k, v, None, "grouped_query_attention with Hq=6, Hkv=3 (distinct kv heads)")
    for h in range(6):
        one = F.scaled_dot_product_attention(q[:, h:h + 1].double(), k[:, h // 2:h // 2 + 1].double(),
                                             v[:, h // 2:h // 2 + 1].double()).float()
        expect_close(got[:, h:h + 1], one, f"query head {h} (it must use kv head {h} // 2 = {h // 2})", atol=1e-5,
                     hint=HINT)


def test_equal_heads_is_multi_head_attention(impl):
    q, k, v = qkv(2, 4, 4, 3, 6, 8, seed=2)
    got = check(impl, q, k, v, None, "grouped_query_attention with Hkv = Hq = 4 (plain multi-head attention)")
    expect_close(got, F.scaled_dot_product_attention(q.double(), k.double(), v.double()).float(),
                 "Hkv = Hq vs F.scaled_dot_product_attention(q, k, v)", atol=1e-5, hint=HINT)


def test_one_kv_head_is_multi_query_attention(impl):
    q, k, v = qkv(2, 5, 1, 4, 3, 6, seed=3)
    check(impl, q, k, v, None, "grouped_query_attention with Hkv = 1 (multi-query: every query head shares k, v)")


def test_scale_uses_head_dim(impl):
    # Large d and spread-out scores: 1/d, 1/√(Hq·d) or no scale all give visibly different softmaxes.
    g = torch.Generator().manual_seed(4)
    q, k, v = 2 * torch.randn(1, 4, 3, 16, generator=g), torch.randn(1, 2, 5, 16, generator=g), \
        torch.randn(1, 2, 5, 16, generator=g)
    check(impl, q, k, v, None, "grouped_query_attention with d = 16 (scale 1/√16 = 1/4)")


def test_causal_mask(impl):
    q, k, v = qkv(2, 4, 2, 6, 6, 4, seed=5)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    check(impl, q, k, v, mask, "grouped_query_attention with a (6, 6) causal mask (True = may attend)")


def test_padding_and_per_head_masks(impl):
    q, k, v = qkv(2, 6, 3, 4, 5, 4, seed=6)
    pad = torch.tensor([[True] * 5, [True, True, True, False, False]])[:, None, None, :]  # (B, 1, 1, S)
    check(impl, q, k, v, pad, "grouped_query_attention with a key-padding mask of shape (B, 1, 1, S)")
    g = torch.Generator().manual_seed(6)
    per_head = torch.rand(2, 6, 4, 5, generator=g) > 0.5  # a different mask for every query head
    per_head[..., 0] = True  # no fully masked row
    check(impl, q, k, v, per_head, "grouped_query_attention with a (B, Hq, L, S) mask: query head h must use "
          "mask[:, h], even though it shares its kv head with other query heads")


def test_deterministic_and_inputs_unchanged(impl):
    q, k, v = qkv(1, 4, 2, 3, 3, 4, seed=7)
    mask = torch.ones(3, 3, dtype=torch.bool).tril()
    before = [t.clone() for t in (q, k, v, mask)]
    expect_deterministic(impl.grouped_query_attention, q, k, v, mask, what="grouped_query_attention(q, k, v, mask)")
    impl.grouped_query_attention(q, k, v, mask)
    expect(all(torch.equal(a, b) for a, b in zip(before, (q, k, v, mask))),
           "grouped_query_attention modified q, k, v or mask in place; use out-of-place ops "
           "(scores.masked_fill, not masked_fill_ on an input).")


@st.composite
def gqa_case(draw):
    Hkv, G = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (draw(st.integers(1, 2)), Hkv * G, Hkv, draw(st.integers(1, 5)), draw(st.integers(1, 5)),
            draw(st.integers(1, 5)), draw(st.booleans()), draw(st.integers(0, 2**16)))


@given(gqa_case())
def test_property_any_grouping(impl, case):
    B, Hq, Hkv, L, S, d, masked, seed = case
    q, k, v = qkv(B, Hq, Hkv, L, S, d, seed)
    mask = None
    if masked:
        mask = torch.rand(B, 1, L, S, generator=torch.Generator().manual_seed(seed)) > 0.4
        mask[..., 0] = True
    check(impl, q, k, v, mask, f"grouped_query_attention with B={B}, Hq={Hq}, Hkv={Hkv}, L={L}, S={S}, d={d}"
          + (", mask (B, 1, L, S)" if masked else ""), atol=1e-4)
