"""blockwise-attention: blockwise_attention(q, k, v, block_size, causal) equals SDPA without an (L, S) intermediate."""
import math

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

HINT = ("Per key/value block: s = q @ k_blkᵀ / √d; m' = max(m, s.amax(-1)); rescale the running sum and the "
        "accumulator by exp(m − m'); add exp(s − m').sum(-1) and exp(s − m') @ v_blk; m = m'. Divide by the sum "
        "once at the end.")


def oracle(q, k, v, causal=False):
    """F.scaled_dot_product_attention in float64 (scale 1/√d)."""
    return F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=causal).float()


def draw(seed, lead, L, S, d, dv, spread=1.0):
    g = torch.Generator().manual_seed(seed)
    return (spread * torch.randn(*lead, L, d, generator=g), spread * torch.randn(*lead, S, d, generator=g),
            torch.randn(*lead, S, dv, generator=g))


def call(impl, q, k, v, block_size, causal=None):
    if causal is None:
        out = impl.blockwise_attention(q, k, v, block_size)
    else:
        out = impl.blockwise_attention(q, k, v, block_size, causal=causal)
    what = (f"blockwise_attention(q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}, "
            f"block_size={block_size}{'' if causal is None else f', causal={causal}'})")
    expect_tensor(out, what, shape=(*q.shape[:-1], v.size(-1)), dtype=torch.float32)
    return out, what


class WatchTensors(TorchFunctionMode):
    """Records the largest tensor produced by any torch operation while active, and any call to SDPA."""

    def __init__(self):
        super().__init__()
        self.largest, self.largest_shape, self.largest_op, self.used_sdpa = 0, None, None, False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is F.scaled_dot_product_attention:
            self.used_sdpa = True
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.numel() > self.largest:
                self.largest, self.largest_shape = t.numel(), tuple(t.shape)
                self.largest_op = getattr(func, "__name__", str(func))
        return out


def check_memory(impl, lead, L, S, d, dv, block_size, causal, seed):
    q, k, v = draw(seed, lead, L, S, d, dv)
    n_lead = math.prod(lead)
    limit = n_lead * L * S // 2  # L·S/2 elements per leading index
    assert n_lead * S * max(d, dv) < limit, "test setup: the inputs themselves must stay below the limit"
    watch = WatchTensors()
    with watch:
        out, what = call(impl, q, k, v, block_size, causal)
    expect(not watch.used_sdpa,
           f"{what} called F.scaled_dot_product_attention. Build it from plain tensor operations (matmul, exp, max, "
           "sum) so that the online softmax is yours; SDPA hides the scores.")
    expect(watch.largest < limit,
           f"{what} produced a tensor of shape {watch.largest_shape} (from `{watch.largest_op}`, {watch.largest} "
           f"elements) — at least half an (L, S) = ({L}, {S}) score matrix or mask (the limit is L·S/2 = {L * S // 2} "
           f"per leading index). With block_size={block_size} the largest tile should be (L, block_size) = "
           f"({L}, {block_size}). Loop over KEY/VALUE blocks (k[..., j:j+b, :]) — blocking only the queries still forms "
           "a full row of S scores per query — and build any causal mask per block from the block's offset, never "
           "an (L, S) torch.tril. If the tensor collects one result per block (a list you torch.stack or torch.cat at "
           "the end), keep a running max, sum and accumulator instead, so that memory does not grow with S.")
    expect_close(out, oracle(q, k, v, causal), f"{what}: output vs SDPA", atol=1e-5, hint=HINT)


def test_block_size_divides_S(impl):
    q, k, v = draw(0, (2, 3), 5, 12, 4, 6)
    out, what = call(impl, q, k, v, 4)
    expect_close(out, oracle(q, k, v), what, atol=1e-5, hint=HINT)


def test_block_size_does_not_divide_S(impl):
    # 13 keys in blocks of 5: the last block has only 3 keys and must not be dropped or padded into the softmax.
    q, k, v = draw(1, (2,), 6, 13, 8, 3, spread=1.5)
    for block_size in (5, 4, 1):
        out, what = call(impl, q, k, v, block_size)
        expect_close(out, oracle(q, k, v), what, atol=1e-5,
                     hint="S is not a multiple of block_size: the last block is shorter (k[..., start:start + b, :] "
                          "simply stops at S); do not drop it (range(0, S, b), not S // b blocks) and do not let "
                          "padding enter the softmax. " + HINT)


def test_block_size_at_least_S(impl):
    q, k, v = draw(2, (3,), 4, 7, 5, 5)
    for block_size in (7, 16):
        out, what = call(impl, q, k, v, block_size)
        expect_close(out, oracle(q, k, v), what, atol=1e-5,
                     hint="With block_size ≥ S there is one block and the result is plain softmax attention: scale "
                          "the scores by 1/√d (d = q.size(-1)). " + HINT)


def test_causal(impl):
    q, k, v = draw(3, (2, 2), 11, 11, 4, 5)
    for block_size in (3, 4, 11):
        out, what = call(impl, q, k, v, block_size, causal=True)
        expect_close(out, oracle(q, k, v, causal=True), what, atol=1e-5,
                     hint="Causal: query i sees keys j ≤ i, where j is the key's GLOBAL position start + (index in the "
                          "block), compared with the query's position i. Mask the scores with -inf before the max and "
                          "the exp. " + HINT)


def test_causal_first_query_sees_only_the_first_key(impl):
    q, k, v = draw(4, (1,), 6, 6, 3, 4)
    out, what = call(impl, q, k, v, 2, causal=True)
    expect_close(out[..., 0, :], v[..., 0, :], f"{what}: output of query 0", atol=1e-6,
                 hint="With causal=True query 0 may attend to key 0 only, so its output is v[0] exactly.")


def test_large_scores_need_the_running_max(impl):
    # Scores in the hundreds: exp(s) overflows float32 unless the running max is subtracted, and later blocks
    # raise the max, so the earlier statistics must be rescaled by exp(m_old − m_new).
    q, k, v = draw(5, (2,), 6, 20, 8, 4, spread=4.0)
    k[..., 15:, :] *= 3  # the largest scores arrive in the last block
    out, what = call(impl, q, k, v, 4)
    expect_close(out, oracle(q, k, v), f"{what} with scores of magnitude ~100", atol=1e-4,
                 hint="Subtract the running max before exp (e^s overflows beyond s ≈ 88), and when a new block raises "
                      "the max, multiply BOTH the running sum and the accumulator by exp(m_old − m_new). " + HINT)


def test_no_L_by_S_intermediate_when_L_equals_block_size(impl):
    check_memory(impl, lead=(2,), L=16, S=512, d=4, dv=4, block_size=16, causal=False, seed=6)


def test_no_L_by_S_intermediate_when_L_is_below_block_size(impl):
    check_memory(impl, lead=(1,), L=8, S=1000, d=3, dv=2, block_size=32, causal=False, seed=7)


def test_no_L_by_S_intermediate_with_many_queries(impl):
    check_memory(impl, lead=(2,), L=40, S=300, d=8, dv=5, block_size=8, causal=False, seed=8)


def test_no_L_by_S_intermediate_causal(impl):
    # One leading index, so that an (L, S) mask without batch dims (torch.tril(torch.ones(L, S))) is twice the limit.
    check_memory(impl, lead=(1,), L=96, S=96, d=8, dv=8, block_size=8, causal=True, seed=9)


def test_deterministic(impl):
    q, k, v = draw(10, (1,), 3, 5, 2, 2)
    expect_deterministic(impl.blockwise_attention, q, k, v, 2, what="blockwise_attention")


@given(st.lists(st.integers(1, 3), min_size=0, max_size=2), st.integers(1, 5), st.integers(1, 9),
       st.integers(1, 5), st.integers(1, 10), st.booleans(), st.integers(0, 2**16))
def test_property_any_shape_and_block(impl, lead, L, S, d, block_size, causal, seed):
    if causal:
        S = L
    q, k, v = draw(seed, tuple(lead), L, S, d, d + 1, spread=1.5)
    out, what = call(impl, q, k, v, block_size, causal)
    expect_close(out, oracle(q, k, v, causal), what, atol=1e-4, rtol=1e-4, hint=HINT)
