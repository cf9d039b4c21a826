"""multi-head-attention: MultiHeadAttention(d_model, n_heads, bias) against nn.MultiheadAttention with copied weights."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="Project, then split d_model into heads with .view(B, L, H, hd).transpose(1, 2) → (B, H, L, hd); "
              "attend per head with scale 1/√hd (hd = d_model / n_heads); merge with .transpose(1, 2).reshape(B, L, "
              "d_model) and apply out_proj.",
           zh="先做投影，再用 .view(B, L, H, hd).transpose(1, 2) 把 d_model 拆成多个头 → (B, H, L, hd)；"
              "每个头内用 1/√hd 缩放做注意力（hd = d_model / n_heads）；用 .transpose(1, 2).reshape(B, L, d_model) "
              "合并各头，再经过 out_proj。")


def manual(mha, query, key, value, H, mask=None, split=True, merge=True, project_out=True, scale_by_d_model=False):
    """Multi-head attention in float64 from mha's weights, with one step optionally done the known wrong way."""
    def lin(layer, x):
        y = x.double() @ layer.weight.detach().double().T
        return y + layer.bias.detach().double() if layer.bias is not None else y

    B, Lq, d = query.shape
    Lk, hd = key.size(1), d // H

    def heads(x, L):
        return x.view(B, L, H, hd).transpose(1, 2) if split else x.reshape(B, H, L, hd)

    q, k, v = heads(lin(mha.q_proj, query), Lq), heads(lin(mha.k_proj, key), Lk), heads(lin(mha.v_proj, value), Lk)
    scores = q @ k.transpose(-2, -1) / (d if scale_by_d_model else hd) ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    out = scores.softmax(-1) @ v
    out = out.transpose(1, 2).reshape(B, Lq, d) if merge else out.reshape(B, Lq, d)
    return (lin(mha.out_proj, out) if project_out else out).float()


def likely_mistakes(mha, query, key, value, H, mask=None):
    """What the usual mistakes give, each with its cause."""
    with torch.no_grad():
        return ((manual(mha, query, key, value, H, mask, split=False),
                 say(en="heads split with .reshape(B, H, L, hd) directly, which mixes positions; use "
                        ".view(B, L, H, hd).transpose(1, 2).",
                     zh="直接用 .reshape(B, H, L, hd) 拆头，会把不同位置的特征混在一起；应使用 "
                        ".view(B, L, H, hd).transpose(1, 2)。")),
                (manual(mha, query, key, value, H, mask, merge=False),
                 say(en="heads merged with .reshape(B, L, d_model) straight from (B, H, L, hd); transpose back first: "
                        ".transpose(1, 2).reshape(B, L, d_model).",
                     zh="直接把 (B, H, L, hd) reshape 成 (B, L, d_model) 来合并各头；要先转置回来："
                        ".transpose(1, 2).reshape(B, L, d_model)。")),
                (manual(mha, query, key, value, H, mask, project_out=False),
                 say(en="the concatenated heads returned without the output projection; apply out_proj at the end.",
                     zh="返回的是拼接后的各头，没有经过输出投影；最后要过一遍 out_proj。")),
                (manual(mha, query, key, value, H, mask, scale_by_d_model=True),
                 say(en="scores scaled by 1/√d_model; each head uses 1/√hd with hd = d_model / n_heads.",
                     zh="分数乘的是 1/√d_model；每个头应使用 1/√hd，其中 hd = d_model / n_heads。")))


def make(impl, d_model, n_heads, bias=True, seed=0):
    """The implementation under test and the nn.MultiheadAttention oracle with the same (random) weights."""
    torch.manual_seed(seed)
    mha = impl.MultiHeadAttention(d_model, n_heads, bias=bias) if not bias else impl.MultiHeadAttention(d_model, n_heads)
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        layer = getattr(mha, name, None)
        expect(isinstance(layer, nn.Linear) and tuple(layer.weight.shape) == (d_model, d_model),
               say(en=f"MultiHeadAttention({d_model}, {n_heads}) needs a submodule `{name}` = nn.Linear({d_model}, "
                      f"{d_model}); found {layer!r}",
                   zh=f"MultiHeadAttention({d_model}, {n_heads}) 需要子模块 `{name}` = nn.Linear({d_model}, "
                      f"{d_model})；实际是 {layer!r}"))
        expect((layer.bias is not None) == bias,
               say(en=f"MultiHeadAttention(..., bias={bias}): {name}.bias is {'missing' if bias else 'present'}",
                   zh=f"MultiHeadAttention(..., bias={bias})：{name}.bias {'缺失' if bias else '不应存在却存在'}"))
    g = torch.Generator().manual_seed(seed)
    ref = nn.MultiheadAttention(d_model, n_heads, bias=bias, batch_first=True).double()
    with torch.no_grad():
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):  # random weights and biases, not the default init
            layer = getattr(mha, name)
            layer.weight.copy_(torch.randn(d_model, d_model, generator=g) / d_model ** 0.5)
            if bias:
                layer.bias.copy_(0.5 * torch.randn(d_model, generator=g))
        ref.in_proj_weight.copy_(torch.cat([mha.q_proj.weight, mha.k_proj.weight, mha.v_proj.weight]).double())
        ref.out_proj.weight.copy_(mha.out_proj.weight.double())
        if bias:
            ref.in_proj_bias.copy_(torch.cat([mha.q_proj.bias, mha.k_proj.bias, mha.v_proj.bias]).double())
            ref.out_proj.bias.copy_(mha.out_proj.bias.double())
    return mha, ref


def oracle(ref, query, key, value, n_heads, mask=None):
    """`mask` is True = may attend, broadcastable to (B, H, Lq, Lk); nn.MultiheadAttention wants True = blocked."""
    B, Lq, Lk = query.size(0), query.size(1), key.size(1)
    kwargs = {}
    if mask is not None:
        full = mask.expand(B, n_heads, Lq, Lk)
        kwargs["attn_mask"] = ~full.reshape(B * n_heads, Lq, Lk)  # nn.MultiheadAttention orders it b * H + h
    out, _ = ref(query.double(), key.double(), value.double(), need_weights=False, **kwargs)
    return out.float()


def call(mha, query, key, value, mask=None):
    return mha(query, key, value) if mask is None else mha(query, key, value, mask)


def test_self_attention_without_mask(impl):
    mha, ref = make(impl, 12, 3)
    x = torch.randn(2, 5, 12)
    got = call(mha, x, x, x)
    expect_tensor(got, "MultiHeadAttention(12, 3)(x, x, x) for x (2, 5, 12)", shape=(2, 5, 12), dtype=torch.float32)
    expect_close(got, oracle(ref, x, x, x, 3), say(en="self-attention output, d_model=12, n_heads=3",
                                                   zh="d_model=12、n_heads=3 时的自注意力输出"), atol=1e-5, hint=HINT,
                 likely=likely_mistakes(mha, x, x, x, 3))


def test_cross_attention_with_different_lengths(impl):
    mha, ref = make(impl, 16, 4, seed=1)
    query, memory = torch.randn(3, 2, 16), torch.randn(3, 6, 16)
    value = torch.randn(3, 6, 16)
    got = call(mha, query, memory, value)
    expect_tensor(got, say(en="cross-attention, query (3, 2, 16), key/value (3, 6, 16)",
                           zh="交叉注意力，query (3, 2, 16)，key/value (3, 6, 16)"), shape=(3, 2, 16), dtype=torch.float32)
    expect_close(got, oracle(ref, query, memory, value, 4), say(en="cross-attention output (Lq=2, Lk=6, 4 heads)",
                                                                zh="交叉注意力输出（Lq=2，Lk=6，4 个头）"),
                 atol=1e-5, hint=say(en=HINT.en + " Keys and values may be longer than the queries: use key.size(1) for "
                                              "them.",
                                     zh=HINT.zh + "键和值可以比查询长：它们的长度要用 key.size(1)。"),
                 likely=likely_mistakes(mha, query, memory, value, 4))


def test_causal_mask(impl):
    mha, ref = make(impl, 8, 2, seed=2)
    x = torch.randn(2, 6, 8)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    expect_close(call(mha, x, x, x, mask), oracle(ref, x, x, x, 2, mask),
                 say(en="self-attention with a (6, 6) causal mask (True = may attend)",
                     zh="带 (6, 6) 因果掩码（True = 可以关注）的自注意力"), atol=1e-5,
                 hint=say(en=HINT.en + " The mask is True where attention is ALLOWED; fill the scores where it is False "
                                       "with -inf.",
                          zh=HINT.zh + "掩码为 True 的位置表示【允许】关注；掩码为 False 的位置把分数填成 -inf。"),
                 likely=likely_mistakes(mha, x, x, x, 2, mask))


def test_padding_mask_and_per_head_mask(impl):
    mha, ref = make(impl, 12, 3, seed=3)
    g = torch.Generator().manual_seed(3)
    query, key = torch.randn(2, 4, 12, generator=g), torch.randn(2, 5, 12, generator=g)
    pad = torch.tensor([[True] * 5, [True, True, True, False, False]])[:, None, None, :]  # (B, 1, 1, Lk)
    expect_close(call(mha, query, key, key, pad), oracle(ref, query, key, key, 3, pad),
                 say(en="cross-attention with a key-padding mask of shape (B, 1, 1, Lk)",
                     zh="带形状为 (B, 1, 1, Lk) 的键填充掩码的交叉注意力"), atol=1e-5, hint=HINT,
                 likely=likely_mistakes(mha, query, key, key, 3, pad))
    per_head = torch.rand(2, 3, 4, 5, generator=g) > 0.5  # a different mask for every batch element and head
    per_head[..., 0] = True
    expect_close(call(mha, query, key, key, per_head), oracle(ref, query, key, key, 3, per_head),
                 say(en="cross-attention with a (B, H, Lq, Lk) mask: head h of batch element b must use mask[b, h]",
                     zh="带 (B, H, Lq, Lk) 掩码的交叉注意力：第 b 个样本的第 h 个头必须使用 mask[b, h]"),
                 atol=1e-5, hint=HINT, likely=likely_mistakes(mha, query, key, key, 3, per_head))


def test_no_bias(impl):
    mha, ref = make(impl, 8, 4, bias=False, seed=4)
    x = torch.randn(1, 3, 8)
    expect_close(call(mha, x, x, x), oracle(ref, x, x, x, 4), "MultiHeadAttention(8, 4, bias=False)",
                 atol=1e-5, hint=HINT, likely=likely_mistakes(mha, x, x, x, 4))


def test_gradients_reach_every_projection(impl):
    mha, _ = make(impl, 8, 2, seed=5)
    x = torch.randn(2, 4, 8)
    call(mha, x, x, x).pow(2).sum().backward()
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        grad = getattr(mha, name).weight.grad
        expect(grad is not None and bool(grad.abs().sum() > 0),
               say(en=f"{name}.weight received no gradient — is {name} used in forward (and not detached)?",
                   zh=f"{name}.weight 没有得到梯度——forward 里用到 {name} 了吗（有没有被 detach）？"))


@st.composite
def mha_case(draw):
    n_heads, head_dim = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    B, Lq, Lk = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    self_attn = draw(st.booleans())
    if self_attn:
        Lk = Lq
    mask_kind = draw(st.sampled_from([None, "2d", "4d"]))
    return n_heads, head_dim, B, Lq, Lk, self_attn, mask_kind, draw(st.booleans()), draw(st.integers(0, 2**16))


@given(mha_case())
def test_property_matches_pytorch(impl, case):
    n_heads, head_dim, B, Lq, Lk, self_attn, mask_kind, bias, seed = case
    d = n_heads * head_dim
    mha, ref = make(impl, d, n_heads, bias=bias, seed=seed)
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(B, Lq, d, generator=g)
    key = query if self_attn else torch.randn(B, Lk, d, generator=g)
    value = query if self_attn else torch.randn(B, Lk, d, generator=g)
    mask = None
    if mask_kind is not None:
        shape = (Lq, Lk) if mask_kind == "2d" else (B, n_heads, Lq, Lk)
        mask = torch.rand(shape, generator=g) > 0.5
        mask[..., seed % Lk] = True  # rows with no allowed position are not tested
    what = (f"MultiHeadAttention({d}, {n_heads}, bias={bias}) on query {tuple(query.shape)}, key {tuple(key.shape)}, "
            f"mask {None if mask is None else tuple(mask.shape)}")
    expect_close(call(mha, query, key, value, mask), oracle(ref, query, key, value, n_heads, mask), what,
                 atol=1e-5, hint=HINT, likely=likely_mistakes(mha, query, key, value, n_heads, mask))
