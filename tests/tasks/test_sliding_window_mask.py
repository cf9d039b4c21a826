"""sliding-window-mask: (n, n) bool, [t, s] True where 0 ≤ t − s < window (True = may attend)."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_deterministic, expect_tensor, say

HINT = say(en="Row t is the query position, column s the key position; t may attend to s when 0 ≤ t − s < window: "
              "itself and the window − 1 positions just before it (never the future). E.g. d = t[:, None] − s[None, :], "
              "(d >= 0) & (d < window).",
           zh="第 t 行是查询位置，第 s 列是键位置；当 0 ≤ t − s < window 时 t 可以关注 s：即它自己和它前面紧邻的 "
              "window − 1 个位置（永远不看未来）。例如 d = t[:, None] − s[None, :]，(d >= 0) & (d < window)。")

MISTAKES = (
    (lambda d, w: (d >= 0) & (d <= w),
     say(en="keys with t − s ≤ window are kept, one position too many; the window counts the position itself, so "
            "only t − s < window.",
         zh="保留了 t − s ≤ window 的键，多了一个位置；窗口包括位置自身，所以只能是 t − s < window。")),
    (lambda d, w: (d > 0) & (d <= w),
     say(en="the position itself is excluded (0 < t − s ≤ window); a position always attends to itself: "
            "0 ≤ t − s < window.",
         zh="排除了位置自身（0 < t − s ≤ window）；每个位置总要关注它自己：0 ≤ t − s < window。")),
    (lambda d, w: d.abs() < w,
     say(en="a symmetric band |t − s| < window lets queries see future keys; the mask must also be causal (s ≤ t).",
         zh="对称带 |t − s| < window 让查询看到了未来的键；掩码还必须是因果的（s ≤ t）。")),
    (lambda d, w: (-d >= 0) & (-d < w),
     say(en="the transpose: the band is built with s − t, so queries look at the NEXT tokens; row t is the query, "
            "use t − s.",
         zh="建成了转置：带是用 s − t 构造的，于是查询看的是后面的 token；第 t 行是查询，应使用 t − s。")),
)


def cause_of(got, n, window, default):
    """The cause of the known mistake whose mask equals `got`, else `default`."""
    pos = torch.arange(n)
    d = pos[:, None] - pos[None, :]
    right = brute_force(n, window)
    for rule, cause in MISTAKES:
        wrong = rule(d, window)
        if not torch.equal(wrong, right) and torch.equal(got, wrong):
            return say(en=f"Your result is exactly what a known mistake gives: {cause.en}",
                       zh=f"你的结果与一个常见错误的结果完全一致：{cause.zh}")
    return default


def brute_force(n, window):
    mask = torch.zeros(n, n, dtype=torch.bool)
    for t in range(n):
        for s in range(n):
            mask[t, s] = 0 <= t - s < window
    return mask


def get_mask(impl, n, window):
    got = impl.sliding_window_mask(n, window)
    expect(not isinstance(got, torch.Tensor) or got.dtype == torch.bool,
           say(en=f"sliding_window_mask({n}, {window}) returned dtype {getattr(got, 'dtype', None)}; it must be boolean "
                  "(True = may attend). A float 0/1 or 0/−inf tensor means something else to attention functions.",
               zh=f"sliding_window_mask({n}, {window}) 返回的 dtype 是 {getattr(got, 'dtype', None)}；它必须是布尔型"
                  "（True = 可以关注）。浮点的 0/1 或 0/−inf 张量对注意力函数来说是另一种含义。"))
    return expect_tensor(got, f"sliding_window_mask({n}, {window})", shape=(n, n), dtype=torch.bool)


def check_mask(impl, n, window):
    got, want = get_mask(impl, n, window), brute_force(n, window)
    if not torch.equal(got, want):
        t, s = (int(i) for i in (got != want).nonzero()[0])
        rule = say(en="future keys (s > t) are never allowed", zh="永远不允许未来的键（s > t）") if s > t else (
            say(en="t − s = 0: a position always attends to itself", zh="t − s = 0：每个位置总要关注它自己") if s == t else
            say(en=f"t − s = {t - s} is {'<' if t - s < window else '≥'} window = {window}",
                zh=f"t − s = {t - s} {'<' if t - s < window else '≥'} window = {window}"))
        cause = cause_of(got, n, window, HINT)
        expect(False, say(en=f"sliding_window_mask({n}, {window})[{t}, {s}] is {bool(got[t, s])}, expected "
                             f"{bool(want[t, s])} (query {t}, key {s}: {rule.en}). {cause.en}",
                          zh=f"sliding_window_mask({n}, {window})[{t}, {s}] 是 {bool(got[t, s])}，应为 "
                             f"{bool(want[t, s])}（查询 {t}，键 {s}：{rule.zh}）。{cause.zh}"))


def test_small_cases_against_brute_force(impl):
    for n, window in ((5, 2), (6, 3), (7, 1), (4, 4), (8, 5), (1, 1), (3, 10)):
        check_mask(impl, n, window)


def test_window_at_least_n_is_the_causal_mask(impl):
    for n in (3, 6):
        for window in (n, n + 2):
            got = get_mask(impl, n, window)
            cause = cause_of(got, n, window, HINT)
            expect(torch.equal(got, torch.ones(n, n, dtype=torch.bool).tril()),
                   say(en=f"sliding_window_mask({n}, {window}) with window ≥ n must equal the causal mask "
                          f"(lower triangle with diagonal); got\n{got.int()}. {cause.en}",
                       zh=f"window ≥ n 时 sliding_window_mask({n}, {window}) 必须等于因果掩码"
                          f"（含对角线的下三角）；实际是\n{got.int()}。{cause.zh}"))


def test_window_one_is_the_identity(impl):
    got = get_mask(impl, 5, 1)
    cause = cause_of(got, 5, 1, say(en="The window counts the position itself: window = 1 means t − s = 0 only.",
                                    zh="窗口包括位置自身：window = 1 表示只有 t − s = 0。"))
    expect(torch.equal(got, torch.eye(5, dtype=torch.bool)),
           say(en=f"sliding_window_mask(5, 1) must be the identity (each position sees only itself); got\n{got.int()}. "
                  f"{cause.en}",
               zh=f"sliding_window_mask(5, 1) 必须是单位矩阵（每个位置只看到它自己）；实际是\n{got.int()}。{cause.zh}"))


def test_row_counts(impl):
    n, window = 9, 4
    got = get_mask(impl, n, window)
    counts = got.sum(-1).tolist()
    want = [min(t + 1, window) for t in range(n)]
    cause = cause_of(got, n, window, say(en="Off by one? The window includes the position itself.",
                                         zh="差了一个？窗口包括位置自身。"))
    expect(counts == want,
           say(en=f"sliding_window_mask({n}, {window}) has {counts} True entries per row; row t must "
                  f"have min(t + 1, window) = {want}. {cause.en}",
               zh=f"sliding_window_mask({n}, {window}) 每行的 True 个数是 {counts}；第 t 行应有 "
                  f"min(t + 1, window) = {want} 个。{cause.zh}"))


def test_deterministic(impl):
    expect_deterministic(impl.sliding_window_mask, 6, 3, what="sliding_window_mask(6, 3)")


@given(st.integers(1, 12), st.integers(1, 14))
def test_property_any_size(impl, n, window):
    check_mask(impl, n, window)
