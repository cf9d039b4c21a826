"""kv-cache-attention: attend_step(q_t, k_t, v_t, cache) one position at a time equals full causal attention."""
import torch
import torch.nn.functional as F

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="At step t, append k_t and v_t to the cache along the sequence dim (dim=-2), then attend from q_t over "
              "ALL cached positions 0..t: softmax(q_t Kᵀ / √d) V. No mask is needed — the cache holds only the past.",
           zh="第 t 步：把 k_t、v_t 沿序列维（dim=-2）追加到缓存里，再让 q_t 关注【所有】已缓存的位置 0..t："
              "softmax(q_t Kᵀ / √d) V。不需要掩码——缓存里只有过去的位置。")


def banded(q, k, v, window):
    """Causal attention restricted to the last `window` positions, in float64."""
    T = q.size(-2)
    i = torch.arange(T)
    mask = (i[None, :] <= i[:, None]) & (i[None, :] > i[:, None] - window)
    return F.scaled_dot_product_attention(q.double(), k.double(), v.double(), attn_mask=mask).float()


def likely_cache_mistakes(q, k, v):
    """What the usual mistakes give for the whole (B, H, T, d) output, each with its cause."""
    return ((v.clone(), say(en="each step attends only to itself: the cache was replaced by the newest k_t, v_t; append "
                               "them to the cached keys and values (torch.cat along dim=-2).",
                            zh="每一步只关注了自己：缓存被最新的 k_t、v_t 替换了；应把它们追加到已缓存的键和值后面"
                               "（沿 dim=-2 做 torch.cat）。")),
            (v[..., :1, :].expand_as(v).clone(),
             say(en="every step attends only to position 0 — the row of query 0 of a full causal mask; the new query "
                    "may see every cached position, so use no mask at all.",
                 zh="每一步都只关注了位置 0——用的是完整因果掩码中查询 0 的那一行；新的查询可以看到所有已缓存的位置，"
                    "所以根本不需要掩码。")),
            (banded(q, k, v, 8),
             say(en="the cache trimmed to the last 8 positions (sliding-window attention); keep every past position.",
                 zh="缓存被裁到了最近 8 个位置（滑动窗口注意力）；要保留所有过去的位置。")))


def full_causal(q, k, v):
    """Oracle: causal attention over the whole sequence at once, in float64."""
    return F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=True).float()


def run_steps(impl, q, k, v, what):
    """Feed the sequence one position at a time; returns the (B, H, T, d) outputs."""
    cache, outs = None, []
    for t in range(q.size(-2)):
        result = impl.attend_step(q[..., t:t + 1, :], k[..., t:t + 1, :], v[..., t:t + 1, :], cache)
        expect(isinstance(result, tuple) and len(result) == 2,
               say(en=f"attend_step should return a tuple (out_t, cache), got {type(result).__name__}",
                   zh=f"attend_step 应返回元组 (out_t, cache)，实际得到 {type(result).__name__}"))
        out_t, cache = result
        expect_tensor(out_t, say(en=f"attend_step at step {t} ({what})", zh=f"第 {t} 步的 attend_step（{what}）"),
                      shape=(*q.shape[:-2], 1, v.size(-1)), dtype=torch.float32)
        outs.append(out_t)
    return torch.cat(outs, dim=-2)


def test_step_by_step_equals_full_causal_attention(impl):
    g = torch.Generator().manual_seed(0)
    B, H, T, d = 2, 3, 9, 4
    q, k, v = (torch.randn(B, H, T, d, generator=g) for _ in range(3))
    got = run_steps(impl, q, k, v, "B=2, H=3, d=4")
    want = full_causal(q, k, v)
    likely = likely_cache_mistakes(q, k, v)
    for t in range(T):  # report the first step that goes wrong
        expect_close(got[..., t, :], want[..., t, :],
                     say(en=f"output of step {t} (it must attend over the {t + 1} cached positions 0..{t})",
                         zh=f"第 {t} 步的输出（它必须关注全部 {t + 1} 个已缓存的位置 0..{t}）"),
                     atol=1e-5, hint=HINT, likely=tuple((r[..., t, :], c) for r, c in likely))


def test_first_step_returns_the_value(impl):
    # With one cached position the softmax weight is 1, so out_0 = v_0.
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, 2, 1, 5, generator=g) for _ in range(3))
    out, _ = impl.attend_step(q, k, v)
    expect_close(out, v, say(en="attend_step(q_0, k_0, v_0) with no cache", zh="没有缓存时的 attend_step(q_0, k_0, v_0)"),
                 atol=1e-6, hint=say(en="With a single position its attention weight is 1, so the output is v_0.",
                                     zh="只有一个位置时它的注意力权重为 1，所以输出就是 v_0。"))


def test_long_sequence_large_scores(impl):
    g = torch.Generator().manual_seed(2)
    q, k, v = (3 * torch.randn(1, 2, 20, 8, generator=g) for _ in range(3))
    expect_close(run_steps(impl, q, k, v, "T=20, d=8"), full_causal(q, k, v),
                 say(en="20 steps of attend_step vs full causal attention", zh="20 步 attend_step 与完整因果注意力的比较"),
                 atol=1e-4, hint=HINT, likely=likely_cache_mistakes(q, k, v))


def test_independent_caches_do_not_interfere(impl):
    # Two sequences decoded in turns, each with its own cache: the cache must carry all the state.
    g = torch.Generator().manual_seed(3)
    seqs = [tuple(torch.randn(1, 2, 6, 4, generator=g) for _ in range(3)) for _ in range(2)]
    caches, outs = [None, None], [[], []]
    for t in range(6):
        for i, (q, k, v) in enumerate(seqs):
            out_t, caches[i] = impl.attend_step(q[..., t:t + 1, :], k[..., t:t + 1, :], v[..., t:t + 1, :], caches[i])
            outs[i].append(out_t)
    for i, (q, k, v) in enumerate(seqs):
        expect_close(torch.cat(outs[i], dim=-2), full_causal(q, k, v),
                     say(en=f"sequence {i} decoded in turns with another sequence, each with its own cache",
                         zh=f"与另一条序列轮流解码、各用各的缓存时的序列 {i}"), atol=1e-5,
                     hint=say(en="Keep the keys and values in the cache you return, not in a global or a default "
                                 "argument; passing cache=None must start a new, empty sequence.",
                              zh="键和值要保存在你返回的缓存里，不要放在全局变量或默认参数里；"
                                 "传入 cache=None 必须开始一条新的空序列。"),
                     likely=likely_cache_mistakes(q, k, v))
