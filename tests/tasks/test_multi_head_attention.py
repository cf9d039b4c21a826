"""multi-head-attention: MultiHeadAttention(d_model, n_heads, bias) against nn.MultiheadAttention with copied weights."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = ("Project, then split d_model into heads with .view(B, L, H, hd).transpose(1, 2) → (B, H, L, hd); "
        "attend per head with scale 1/√hd (hd = d_model / n_heads); merge with .transpose(1, 2).reshape(B, L, d_model) "
        "and apply out_proj.")


def make(impl, d_model, n_heads, bias=True, seed=0):
    """The implementation under test and the nn.MultiheadAttention oracle with the same (random) weights."""
    torch.manual_seed(seed)
    mha = impl.MultiHeadAttention(d_model, n_heads, bias=bias) if not bias else impl.MultiHeadAttention(d_model, n_heads)
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        layer = getattr(mha, name, None)
        expect(isinstance(layer, nn.Linear) and tuple(layer.weight.shape) == (d_model, d_model),
               f"MultiHeadAttention({d_model}, {n_heads}) needs a submodule `{name}` = nn.Linear({d_model}, {d_model}); "
               f"found {layer!r}")
        expect((layer.bias is not None) == bias,
               f"MultiHeadAttention(..., bias={bias}): {name}.bias is {'missing' if bias else 'present'}")
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
    expect_close(got, oracle(ref, x, x, x, 3), "self-attention output, d_model=12, n_heads=3", atol=1e-5, hint=HINT)


def test_cross_attention_with_different_lengths(impl):
    mha, ref = make(impl, 16, 4, seed=1)
    query, memory = torch.randn(3, 2, 16), torch.randn(3, 6, 16)
    value = torch.randn(3, 6, 16)
    got = call(mha, query, memory, value)
    expect_tensor(got, "cross-attention, query (3, 2, 16), key/value (3, 6, 16)", shape=(3, 2, 16), dtype=torch.float32)
    expect_close(got, oracle(ref, query, memory, value, 4), "cross-attention output (Lq=2, Lk=6, 4 heads)",
                 atol=1e-5, hint=HINT + " Keys and values may be longer than the queries: use key.size(1) for them.")


def test_causal_mask(impl):
    mha, ref = make(impl, 8, 2, seed=2)
    x = torch.randn(2, 6, 8)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    expect_close(call(mha, x, x, x, mask), oracle(ref, x, x, x, 2, mask),
                 "self-attention with a (6, 6) causal mask (True = may attend)", atol=1e-5,
                 hint=HINT + " The mask is True where attention is ALLOWED; fill the scores where it is False with -inf.")


def test_padding_mask_and_per_head_mask(impl):
    mha, ref = make(impl, 12, 3, seed=3)
    g = torch.Generator().manual_seed(3)
    query, key = torch.randn(2, 4, 12, generator=g), torch.randn(2, 5, 12, generator=g)
    pad = torch.tensor([[True] * 5, [True, True, True, False, False]])[:, None, None, :]  # (B, 1, 1, Lk)
    expect_close(call(mha, query, key, key, pad), oracle(ref, query, key, key, 3, pad),
                 "cross-attention with a key-padding mask of shape (B, 1, 1, Lk)", atol=1e-5, hint=HINT)
    per_head = torch.rand(2, 3, 4, 5, generator=g) > 0.5  # a different mask for every batch element and head
    per_head[..., 0] = True
    expect_close(call(mha, query, key, key, per_head), oracle(ref, query, key, key, 3, per_head),
                 "cross-attention with a (B, H, Lq, Lk) mask: head h of batch element b must use mask[b, h]",
                 atol=1e-5, hint=HINT)


def test_no_bias(impl):
    mha, ref = make(impl, 8, 4, bias=False, seed=4)
    x = torch.randn(1, 3, 8)
    expect_close(call(mha, x, x, x), oracle(ref, x, x, x, 4), "MultiHeadAttention(8, 4, bias=False)",
                 atol=1e-5, hint=HINT)


def test_gradients_reach_every_projection(impl):
    mha, _ = make(impl, 8, 2, seed=5)
    x = torch.randn(2, 4, 8)
    call(mha, x, x, x).pow(2).sum().backward()
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        grad = getattr(mha, name).weight.grad
        expect(grad is not None and bool(grad.abs().sum() > 0),
               f"{name}.weight received no gradient — is {name} used in forward (and not detached)?")


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
                 atol=1e-5, hint=HINT)
