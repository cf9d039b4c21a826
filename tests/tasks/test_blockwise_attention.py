"""blockwise-attention: blockwise_attention(q, k, v, block_size, causal) equals SDPA without an (L, S) intermediate."""
import math

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

HINT = say(en="Per key/value block: s = q @ k_blkᵀ / √d; m' = max(m, s.amax(-1)); rescale the running sum and the "
              "accumulator by exp(m − m'); add exp(s − m').sum(-1) and exp(s − m') @ v_blk; m = m'. Divide by the sum "
              "once at the end.",
           zh="对每个键/值块：s = q @ k_blkᵀ / √d；m' = max(m, s.amax(-1))；用 exp(m − m') 同时缩放运行和与累加器；"
              "加上 exp(s − m').sum(-1) 和 exp(s − m') @ v_blk；m = m'。最后只除一次和。")


def oracle(q, k, v, causal=False):
    """F.scaled_dot_product_attention in float64 (scale 1/√d)."""
    return F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=causal).float()


def likely_blockwise_mistakes(q, k, v, b, causal):
    """What the usual blockwise mistakes give (computed in float64 with the full score matrix), each with its cause."""
    q, k, v = q.double(), k.double(), v.double()
    L, S = q.size(-2), k.size(-2)
    s = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    rows, cols = torch.arange(L).unsqueeze(-1), torch.arange(S)
    if causal:
        s = s.masked_fill(cols > rows, float("-inf"))
    pairs = []
    # the accumulator not rescaled when the max rises
    m = torch.full((*q.shape[:-1], 1), float("-inf"), dtype=torch.float64)
    l_sum, acc = torch.zeros_like(m), torch.zeros(*q.shape[:-1], v.size(-1), dtype=torch.float64)
    total, count = torch.zeros_like(acc), torch.zeros_like(m)
    for start in range(0, S, b):
        blk = s[..., start:start + b]
        m_new = torch.maximum(m, blk.amax(-1, keepdim=True))
        p = torch.exp(blk - m_new)
        l_sum = torch.exp(m - m_new) * l_sum + p.sum(-1, keepdim=True)
        acc = acc + p @ v[..., start:start + b, :]
        m = m_new
        total = total + torch.softmax(blk, dim=-1).nan_to_num(0.0) @ v[..., start:start + b, :]
        count = count + torch.isfinite(blk).any(-1, keepdim=True)
    pairs.append(((acc / l_sum).float(),
                  say(en="when a block raises the running max, the sum is rescaled by exp(m_old − m_new) but the "
                         "accumulator is not; rescale both.",
                      zh="某个块抬高了运行最大值时，只用 exp(m_old − m_new) 缩放了运行和，没有缩放累加器；两者都要缩放。")))
    pairs.append(((total / count).float(),
                  say(en="a separate softmax per block, averaged over the blocks; blocks hold different shares of the "
                         "softmax mass — keep a running max, sum and accumulator across blocks.",
                      zh="每个块单独做 softmax 再对各块取平均；各块占 softmax 总质量的比例不同——要跨块维护运行最大值、"
                         "运行和与累加器。")))
    full = (S // b) * b
    if 0 < full < S and not causal:
        pairs.append((torch.softmax(s[..., :full], dim=-1).float() @ v[..., :full, :].float(),
                      say(en=f"the last, shorter block dropped (S // b = {S // b} blocks); loop with range(0, S, b) so "
                             "the final partial block is included.",
                          zh=f"丢掉了最后那个较短的块（只算了 S // b = {S // b} 个块）；应用 range(0, S, b) 循环，"
                             "把最后不完整的块也算进去。")))
    if causal:
        local = (q.double() @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).masked_fill(cols % b > rows, float("-inf"))
        pairs.append(((torch.softmax(local, dim=-1) @ v).float(),
                      say(en="the causal mask built from the key's index inside the block; compare the query's position "
                             "with the key's GLOBAL position start + index.",
                          zh="因果掩码用了键在块内的下标；应把查询的位置与键的全局位置 start + 下标比较。")))
    return tuple(pairs)


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
            f"block_size={block_size}{'' if causal is None else f', causal={causal}'})")  # code: the same in both languages
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
           say(en=f"{what} called F.scaled_dot_product_attention. Build it from plain tensor operations (matmul, exp, "
                  "max, sum) so that the online softmax is yours; SDPA hides the scores.",
               zh=f"{what} 调用了 F.scaled_dot_product_attention。请用普通张量运算（matmul、exp、max、sum）实现，"
                  "让在线 softmax 由你自己完成；SDPA 会把分数藏起来。"))
    expect(watch.largest < limit,
           say(en=f"{what} produced a tensor of shape {watch.largest_shape} (from `{watch.largest_op}`, {watch.largest} "
                  f"elements) — at least half an (L, S) = ({L}, {S}) score matrix or mask (the limit is L·S/2 = "
                  f"{L * S // 2} per leading index). With block_size={block_size} the largest tile should be "
                  f"(L, block_size) = ({L}, {block_size}). Loop over KEY/VALUE blocks (k[..., j:j+b, :]) — blocking "
                  "only the queries still forms a full row of S scores per query — and build any causal mask per "
                  "block from the block's offset, never an (L, S) torch.tril. If the tensor collects one result per "
                  "block (a list you torch.stack or torch.cat at the end), keep a running max, sum and accumulator "
                  "instead, so that memory does not grow with S.",
               zh=f"{what} 产生了形状为 {watch.largest_shape} 的张量（来自 `{watch.largest_op}`，{watch.largest} 个元素）"
                  f"——至少是 (L, S) = ({L}, {S}) 分数矩阵或掩码的一半（上限是每个前导下标 L·S/2 = {L * S // 2}）。"
                  f"block_size={block_size} 时最大的块应是 (L, block_size) = ({L}, {block_size})。要对键/值分块循环"
                  "（k[..., j:j+b, :]）——只对查询分块，每个查询仍会形成一整行 S 个分数——因果掩码也要按块的偏移逐块"
                  "构造，绝不要用 (L, S) 的 torch.tril。如果这个张量是在收集每个块的结果（最后 torch.stack 或 "
                  "torch.cat 的列表），请改为维护运行最大值、运行和与累加器，让内存不随 S 增长。"))
    expect_close(out, oracle(q, k, v, causal), say(en=f"{what}: output vs SDPA", zh=f"{what}：输出与 SDPA 的比较"),
                 atol=1e-5, hint=HINT, likely=likely_blockwise_mistakes(q, k, v, block_size, causal))


def test_block_size_divides_S(impl):
    q, k, v = draw(0, (2, 3), 5, 12, 4, 6)
    out, what = call(impl, q, k, v, 4)
    expect_close(out, oracle(q, k, v), what, atol=1e-5, hint=HINT, likely=likely_blockwise_mistakes(q, k, v, 4, False))


def test_block_size_does_not_divide_S(impl):
    # 13 keys in blocks of 5: the last block has only 3 keys and must not be dropped or padded into the softmax.
    q, k, v = draw(1, (2,), 6, 13, 8, 3, spread=1.5)
    for block_size in (5, 4, 1):
        out, what = call(impl, q, k, v, block_size)
        expect_close(out, oracle(q, k, v), what, atol=1e-5,
                     hint=say(en="S is not a multiple of block_size: the last block is shorter (k[..., start:start + b, "
                                 ":] simply stops at S); do not drop it (range(0, S, b), not S // b blocks) and do not "
                                 "let padding enter the softmax. " + HINT.en,
                              zh="S 不是 block_size 的倍数：最后一个块更短（k[..., start:start + b, :] 到 S 就停止）；"
                                 "不要丢掉它（用 range(0, S, b)，而不是 S // b 个块），也不要让填充值进入 softmax。"
                                 + HINT.zh),
                     likely=likely_blockwise_mistakes(q, k, v, block_size, False))


def test_block_size_at_least_S(impl):
    q, k, v = draw(2, (3,), 4, 7, 5, 5)
    for block_size in (7, 16):
        out, what = call(impl, q, k, v, block_size)
        expect_close(out, oracle(q, k, v), what, atol=1e-5,
                     hint=say(en="With block_size ≥ S there is one block and the result is plain softmax attention: "
                                 "scale the scores by 1/√d (d = q.size(-1)). " + HINT.en,
                              zh="block_size ≥ S 时只有一个块，结果就是普通的 softmax 注意力：分数要乘以 1/√d"
                                 "（d = q.size(-1)）。" + HINT.zh))


def test_causal(impl):
    q, k, v = draw(3, (2, 2), 11, 11, 4, 5)
    for block_size in (3, 4, 11):
        out, what = call(impl, q, k, v, block_size, causal=True)
        expect_close(out, oracle(q, k, v, causal=True), what, atol=1e-5,
                     hint=say(en="Causal: query i sees keys j ≤ i, where j is the key's GLOBAL position start + (index "
                                 "in the block), compared with the query's position i. Mask the scores with -inf before "
                                 "the max and the exp. " + HINT.en,
                              zh="因果：查询 i 只能看到 j ≤ i 的键，其中 j 是键的全局位置 start +（块内下标），与查询的"
                                 "位置 i 比较。在求最大值和取 exp 之前用 -inf 掩码分数。" + HINT.zh),
                     likely=likely_blockwise_mistakes(q, k, v, block_size, True))


def test_causal_first_query_sees_only_the_first_key(impl):
    q, k, v = draw(4, (1,), 6, 6, 3, 4)
    out, what = call(impl, q, k, v, 2, causal=True)
    expect_close(out[..., 0, :], v[..., 0, :], say(en=f"{what}: output of query 0", zh=f"{what}：查询 0 的输出"),
                 atol=1e-6, hint=say(en="With causal=True query 0 may attend to key 0 only, so its output is v[0] exactly.",
                                     zh="causal=True 时查询 0 只能关注键 0，所以它的输出恰好是 v[0]。"))


def test_large_scores_need_the_running_max(impl):
    # Scores in the hundreds: exp(s) overflows float32 unless the running max is subtracted, and later blocks
    # raise the max, so the earlier statistics must be rescaled by exp(m_old − m_new).
    q, k, v = draw(5, (2,), 6, 20, 8, 4, spread=4.0)
    k[..., 15:, :] *= 3  # the largest scores arrive in the last block
    out, what = call(impl, q, k, v, 4)
    expect(bool(torch.isfinite(out).all()),
           say(en=f"{what} with scores of magnitude ~100 returned NaN or inf: exp(s) overflows beyond s ≈ 88. Subtract "
                  "the running max before exp and rescale the earlier sum and accumulator by exp(m_old − m_new).",
               zh=f"分数量级约为 100 时 {what} 返回了 NaN 或 inf：s 超过约 88 时 exp(s) 会溢出。取 exp 之前先减去运行"
                  "最大值，并用 exp(m_old − m_new) 缩放之前的运行和与累加器。"))
    expect_close(out, oracle(q, k, v), say(en=f"{what} with scores of magnitude ~100", zh=f"分数量级约为 100 时的 {what}"),
                 atol=1e-4,
                 hint=say(en="Subtract the running max before exp (e^s overflows beyond s ≈ 88), and when a new block "
                             "raises the max, multiply BOTH the running sum and the accumulator by exp(m_old − m_new). "
                             + HINT.en,
                          zh="取 exp 之前先减去运行最大值（s 超过约 88 时 e^s 会溢出）；新块抬高最大值时，要把运行和与"
                             "累加器都乘以 exp(m_old − m_new)。" + HINT.zh),
                 likely=likely_blockwise_mistakes(q, k, v, 4, False))


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
    expect_close(out, oracle(q, k, v, causal), what, atol=1e-4, rtol=1e-4, hint=HINT,
                 likely=likely_blockwise_mistakes(q, k, v, block_size, causal))
