"""grouped-query-attention: query head h uses kv head h // (Hq // Hkv); equals SDPA on repeat_interleave'd k, v."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

HINT = say(en="Query head h uses kv head h // (Hq // Hkv): expand k and v with k.repeat_interleave(Hq // Hkv, dim=1) "
              "(or view q as (B, Hkv, G, L, d)), then softmax(q kᵀ / √d) v with the softmax over the keys (dim=-1).",
           zh="查询头 h 使用第 h // (Hq // Hkv) 个键值头：用 k.repeat_interleave(Hq // Hkv, dim=1) 扩展 k 和 v"
              "（或把 q 视为 (B, Hkv, G, L, d)），再算 softmax(q kᵀ / √d) v，softmax 在键维（dim=-1）上做。")
TILED = say(en="query head h paired with kv head h % Hkv (k.repeat tiles the heads, or q was viewed as (B, G, Hkv, L, d)); "
               "the contract groups CONSECUTIVE query heads: kv head h // (Hq // Hkv), as repeat_interleave.",
            zh="查询头 h 配上了第 h % Hkv 个键值头（k.repeat 是平铺，或者把 q 视为了 (B, G, Hkv, L, d)）；"
               "约定是【相邻】的查询头共享键值头：第 h // (Hq // Hkv) 个，与 repeat_interleave 一致。")
INVERTED = say(en="the mask INVERTED: here True means may attend (as in F.scaled_dot_product_attention), so fill the "
                  "scores with −inf where the mask is False.",
               zh="掩码用反了：这里 True 表示可以关注（与 F.scaled_dot_product_attention 相同），"
                  "应在掩码为 False 的位置把分数填成 −inf。")
SCALE_BY_D = say(en="scores scaled by 1/d; divide q kᵀ by √d (d = the head dimension).",
                 zh="分数乘的是 1/d；应把 q kᵀ 除以 √d（d 是每个头的维度）。")
OVER_QUERIES = say(en="a softmax over the queries (dim=-2); take it over the keys (dim=-1).",
                   zh="在查询维（dim=-2）上做了 softmax；应在键维（dim=-1）上做。")


def oracle(q, k, v, mask=None, expand=torch.repeat_interleave):
    """SDPA in float64 on k, v expanded to Hq heads (consecutive query heads share a kv head)."""
    group = q.size(1) // k.size(1)
    kk, vv = expand(k.double(), group, dim=1), expand(v.double(), group, dim=1)
    return F.scaled_dot_product_attention(q.double(), kk, vv, attn_mask=mask).float()


def manual(q, k, v, mask, scale, dim):
    """Attention in float64 with a given scale and softmax dim (for the known mistakes), kv expanded correctly."""
    group = q.size(1) // k.size(1)
    kk, vv = k.double().repeat_interleave(group, dim=1), v.double().repeat_interleave(group, dim=1)
    scores = q.double() @ kk.transpose(-2, -1) * scale
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return (scores.softmax(dim).nan_to_num() @ vv).float()


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
    likely = []
    if k.size(1) not in (1, Hq):
        likely.append((oracle(q, k, v, mask, expand=tiled), TILED))
    if mask is not None:
        inverted = ~torch.broadcast_to(mask, (B, Hq, L, k.size(2)))
        if bool(inverted.any(-1).all()):  # the inverted mask leaves every row a key, so it has a finite oracle
            likely.append((oracle(q, k, v, inverted), INVERTED))
        elif not bool(torch.isfinite(got).all()):
            hint = say(en="Your output has NaN/inf where the mask leaves keys to attend to: True means may attend, so "
                          "fill the scores with −inf where the mask is False (not where it is True). " + HINT.en,
                       zh="掩码留有可关注的键，你的输出却出现了 NaN/inf：True 表示可以关注，应在掩码为 False（而不是 True）"
                          "的位置把分数填成 −inf。" + HINT.zh)
    likely.append((manual(q, k, v, mask, 1 / d, -1), SCALE_BY_D))
    likely.append((manual(q, k, v, mask, d ** -0.5, -2), OVER_QUERIES))
    expect_close(got, want, what, atol=atol, rtol=1e-4, hint=hint, likely=tuple(likely))
    return got


def test_grouped_heads_match_sdpa_on_repeat_interleaved_kv(impl):
    q, k, v = qkv(2, 6, 2, 5, 5, 4, seed=0)
    check(impl, q, k, v, None, "grouped_query_attention(q (2, 6, 5, 4), k, v (2, 2, 5, 4))")


def test_grouping_is_interleaved_not_tiled(impl):
    # 6 query heads, 3 distinct kv heads: heads 0,1 -> kv 0; 2,3 -> kv 1; 4,5 -> kv 2 (tiling would give 0,1,2,0,1,2).
    q, k, v = qkv(1, 6, 3, 4, 7, 5, seed=1)
    got = check(impl, q, k, v, None, say(en="grouped_query_attention with Hq=6, Hkv=3 (distinct kv heads)",
                                         zh="Hq=6、Hkv=3（各键值头互不相同）时的 grouped_query_attention"))
    for h in range(6):
        one = F.scaled_dot_product_attention(q[:, h:h + 1].double(), k[:, h // 2:h // 2 + 1].double(),
                                             v[:, h // 2:h // 2 + 1].double()).float()
        expect_close(got[:, h:h + 1], one, say(en=f"query head {h} (it must use kv head {h} // 2 = {h // 2})",
                                               zh=f"查询头 {h}（它必须使用第 {h} // 2 = {h // 2} 个键值头）"),
                     atol=1e-5, hint=HINT)


def test_equal_heads_is_multi_head_attention(impl):
    q, k, v = qkv(2, 4, 4, 3, 6, 8, seed=2)
    got = check(impl, q, k, v, None, say(en="grouped_query_attention with Hkv = Hq = 4 (plain multi-head attention)",
                                         zh="Hkv = Hq = 4（即普通多头注意力）时的 grouped_query_attention"))
    expect_close(got, F.scaled_dot_product_attention(q.double(), k.double(), v.double()).float(),
                 say(en="Hkv = Hq vs F.scaled_dot_product_attention(q, k, v)",
                     zh="Hkv = Hq 时与 F.scaled_dot_product_attention(q, k, v) 的比较"), atol=1e-5, hint=HINT)


def test_one_kv_head_is_multi_query_attention(impl):
    q, k, v = qkv(2, 5, 1, 4, 3, 6, seed=3)
    check(impl, q, k, v, None, say(en="grouped_query_attention with Hkv = 1 (multi-query: every query head shares k, v)",
                                   zh="Hkv = 1（多查询注意力：所有查询头共享同一组 k、v）时的 grouped_query_attention"))


def test_scale_uses_head_dim(impl):
    # Large d and spread-out scores: 1/d, 1/√(Hq·d) or no scale all give visibly different softmaxes.
    g = torch.Generator().manual_seed(4)
    q, k, v = 2 * torch.randn(1, 4, 3, 16, generator=g), torch.randn(1, 2, 5, 16, generator=g), \
        torch.randn(1, 2, 5, 16, generator=g)
    check(impl, q, k, v, None, say(en="grouped_query_attention with d = 16 (scale 1/√16 = 1/4)",
                                   zh="d = 16（缩放 1/√16 = 1/4）时的 grouped_query_attention"))


def test_causal_mask(impl):
    q, k, v = qkv(2, 4, 2, 6, 6, 4, seed=5)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    check(impl, q, k, v, mask, say(en="grouped_query_attention with a (6, 6) causal mask (True = may attend)",
                                   zh="带 (6, 6) 因果掩码（True = 可以关注）的 grouped_query_attention"))


def test_padding_and_per_head_masks(impl):
    q, k, v = qkv(2, 6, 3, 4, 5, 4, seed=6)
    pad = torch.tensor([[True] * 5, [True, True, True, False, False]])[:, None, None, :]  # (B, 1, 1, S)
    check(impl, q, k, v, pad, say(en="grouped_query_attention with a key-padding mask of shape (B, 1, 1, S)",
                                  zh="带形状为 (B, 1, 1, S) 的键填充掩码的 grouped_query_attention"))
    g = torch.Generator().manual_seed(6)
    per_head = torch.rand(2, 6, 4, 5, generator=g) > 0.5  # a different mask for every query head
    per_head[..., 0] = True  # no fully masked row
    check(impl, q, k, v, per_head, say(en="grouped_query_attention with a (B, Hq, L, S) mask: query head h must use "
                                          "mask[:, h], even though it shares its kv head with other query heads",
                                       zh="带 (B, Hq, L, S) 掩码的 grouped_query_attention：查询头 h 必须使用 mask[:, h]，"
                                          "即使它与其他查询头共享键值头"))


def test_deterministic_and_inputs_unchanged(impl):
    q, k, v = qkv(1, 4, 2, 3, 3, 4, seed=7)
    mask = torch.ones(3, 3, dtype=torch.bool).tril()
    before = [t.clone() for t in (q, k, v, mask)]
    expect_deterministic(impl.grouped_query_attention, q, k, v, mask, what="grouped_query_attention(q, k, v, mask)")
    impl.grouped_query_attention(q, k, v, mask)
    expect(all(torch.equal(a, b) for a, b in zip(before, (q, k, v, mask))),
           say(en="grouped_query_attention modified q, k, v or mask in place; use out-of-place ops "
                  "(scores.masked_fill, not masked_fill_ on an input).",
               zh="grouped_query_attention 原地修改了 q、k、v 或 mask；请用非原地运算"
                  "（scores.masked_fill，不要对输入调用 masked_fill_）。"))


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
    shape = f"B={B}, Hq={Hq}, Hkv={Hkv}, L={L}, S={S}, d={d}"
    check(impl, q, k, v, mask, say(en=f"grouped_query_attention with {shape}" + (", mask (B, 1, L, S)" if masked else ""),
                                   zh=f"{shape}" + ("、带掩码 (B, 1, L, S)" if masked else "") + " 时的 grouped_query_attention"),
          atol=1e-4)
