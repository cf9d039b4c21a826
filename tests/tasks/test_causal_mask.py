"""causal-mask: (n, n) bool, True on and below the diagonal (True = may attend)."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="Row t is the query at position t, column s the key at position s; t may attend to s ≤ t, "
              "so the mask is the LOWER triangle including the diagonal: torch.ones(n, n, dtype=torch.bool).tril().",
           zh="第 t 行是位置 t 的查询，第 s 列是位置 s 的键；t 只能关注 s ≤ t，所以掩码是包含对角线的下三角："
              "torch.ones(n, n, dtype=torch.bool).tril()。")


def mask_cause(got, n):
    """The usual cause of a wrong boolean mask (a Msg): the upper triangle or a missing diagonal, else HINT."""
    ones = torch.ones(n, n, dtype=torch.bool)
    if n > 1 and torch.equal(got, ones.triu()):
        return say(en="This is the UPPER triangle: every position attends to the future. Keep s ≤ t with .tril().",
                   zh="这是上三角：每个位置都在关注未来。应保留 s ≤ t，用 .tril()。")
    if torch.equal(got, ones.tril(-1)):
        return say(en="The diagonal is excluded (tril(-1)): a position must attend to itself, or row 0 allows nothing "
                      "and the softmax gives NaN. Use .tril() with diagonal=0.",
                   zh="去掉了对角线（tril(-1)）：每个位置必须能关注自己，否则第 0 行什么都不能关注，softmax 会得到 "
                      "NaN。应使用 diagonal=0 的 .tril()。")
    return HINT


def oracle(n):
    rows = torch.arange(n)[:, None]
    cols = torch.arange(n)[None, :]
    return cols <= rows  # key position ≤ query position


def check_mask(impl, n):
    got = impl.causal_mask(n)
    expect(not isinstance(got, torch.Tensor) or got.dtype == torch.bool,
           say(en=f"causal_mask({n}) returned dtype {getattr(got, 'dtype', None)}; it must be boolean (torch.bool). "
                  "A float 0/1 tensor passed as attn_mask is ADDED to the scores and masks nothing.",
               zh=f"causal_mask({n}) 返回的 dtype 是 {getattr(got, 'dtype', None)}；它必须是布尔型（torch.bool）。"
                  "作为 attn_mask 传入的浮点 0/1 张量会被加到分数上，什么也遮不住。"))
    expect_tensor(got, f"causal_mask({n})", shape=(n, n), dtype=torch.bool)
    want = oracle(n)
    if not torch.equal(got, want):
        t, s = (int(i) for i in (got != want).nonzero()[0])
        cause = mask_cause(got, n)
        expect(False, say(en=f"causal_mask({n})[{t}, {s}] is {bool(got[t, s])}, expected {bool(want[t, s])} "
                             f"(query position {t}, key position {s}). {cause.en}",
                          zh=f"causal_mask({n})[{t}, {s}] 是 {bool(got[t, s])}，应为 {bool(want[t, s])}"
                             f"（查询位置 {t}，键位置 {s}）。{cause.zh}"))


def test_small_masks_equal_the_lower_triangle(impl):
    for n in (1, 2, 3, 5, 8):
        check_mask(impl, n)


@given(st.integers(1, 40))
def test_any_size(impl, n):
    check_mask(impl, n)


def test_diagonal_is_allowed_so_no_row_is_empty(impl):
    got = impl.causal_mask(6)
    expect_tensor(got, "causal_mask(6)", shape=(6, 6), dtype=torch.bool)
    expect(bool(got.diagonal().all()),
           say(en=f"the diagonal of causal_mask(6) is {got.diagonal().tolist()}; each position must attend to itself "
                  "(otherwise the first row allows nothing and the softmax gives NaN).",
               zh=f"causal_mask(6) 的对角线是 {got.diagonal().tolist()}；每个位置都必须能关注自己"
                  "（否则第一行什么都不能关注，softmax 会得到 NaN）。"))


def test_outputs_do_not_depend_on_later_inputs(impl):
    # With the mask, attention output at position t must not change when inputs after t change.
    g = torch.Generator().manual_seed(0)
    n, d = 7, 4
    mask = impl.causal_mask(n)
    check_mask(impl, n)
    q, k, v = (torch.randn(2, n, d, generator=g, dtype=torch.float64) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    for t in range(n - 1):
        k2, v2 = k.clone(), v.clone()
        k2[:, t + 1:] = torch.randn(2, n - t - 1, d, generator=g, dtype=torch.float64)
        v2[:, t + 1:] = torch.randn(2, n - t - 1, d, generator=g, dtype=torch.float64)
        out2 = F.scaled_dot_product_attention(q, k2, v2, attn_mask=mask)
        expect_close(out2[:, :t + 1], out[:, :t + 1],
                     say(en=f"attention outputs at positions 0..{t} after changing the keys/values at positions > {t}",
                         zh=f"改变位置 > {t} 的键/值之后，位置 0..{t} 的注意力输出"),
                     atol=1e-10, hint=say(en="Position t leaked information from the future. " + HINT.en,
                                          zh="位置 t 泄露了未来的信息。" + HINT.zh))
    # ...and it is the standard causal attention, not something stricter.
    expect_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True),
                 say(en="attention with your mask vs F.scaled_dot_product_attention(..., is_causal=True)",
                     zh="用你的掩码做的注意力与 F.scaled_dot_product_attention(..., is_causal=True) 的比较"),
                 atol=1e-10, hint=HINT)
