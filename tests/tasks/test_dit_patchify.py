"""dit-patchify: (B, C, H, W) ↔ (B, N, p·p·C), patches in row-major order, each flattened in (p, p, C) order.

Oracles: explicit loops over patches, pixels and channels (pure data movement, so comparisons are exact).
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged, say

HINT = say(en="x.reshape(B, C, H/p, p, W/p, p).permute(0, 2, 4, 3, 5, 1).reshape(B, N, p·p·C): the patch grid first "
              "(patch-rows, then patch-columns: row-major), then row-in-patch, column-in-patch, channel.",
           zh="x.reshape(B, C, H/p, p, W/p, p).permute(0, 2, 4, 3, 5, 1).reshape(B, N, p·p·C)：先是 patch 网格"
              "（先 patch 行、再 patch 列：行优先），然后是 patch 内的行、patch 内的列、通道。")
INNER_HINT = say(en="Inside a token the order is (p, p, C), channels LAST: entry (i·p + j)·C + ch is pixel (i, j) of the "
                    "patch, channel ch. F.unfold and a Conv2d's weight flatten (C, p, p) — channels first — which is "
                    "not the layout DiT's unpatchify reads.",
                 zh="token 内部的顺序是 (p, p, C)，通道在最后：第 (i·p + j)·C + ch 个元素是 patch 中像素 (i, j) 的第 ch "
                    "个通道。F.unfold 和 Conv2d 的权重按 (C, p, p) 展平——通道在前——这不是 DiT 的 unpatchify 读取的"
                    "布局。")
UNPATCHIFY_HINT = say(en="unpatchify must undo patchify exactly: tokens.reshape(B, H/p, W/p, p, p, C).permute(0, 5, 1, "
                         "3, 2, 4).reshape(B, C, H, W) (einsum 'bhwpqc->bchpwq'). Use the H and W you are given — do "
                         "not infer a square grid from √N.",
                      zh="unpatchify 必须精确还原 patchify：tokens.reshape(B, H/p, W/p, p, p, C).permute(0, 5, 1, 3, 2, "
                         "4).reshape(B, C, H, W)（einsum 'bhwpqc->bchpwq'）。使用传入的 H 和 W——不要从 √N 推断出"
                         "正方形网格。")


def likely_patchify_mistakes(x, p):
    """What the usual patchify mistakes give on x, each with its cause."""
    B, C, H, W = x.shape
    h, w = H // p, W // p
    grid = x.reshape(B, C, h, p, w, p)
    return ((grid.permute(0, 2, 4, 1, 3, 5).reshape(B, h * w, C * p * p),
             say(en="each patch flattened in (C, p, p) order, channels first (as F.unfold does); DiT's tokens are "
                    "(p, p, C), channels last.",
                 zh="每个 patch 按 (C, p, p) 顺序展平，通道在前（F.unfold 的做法）；DiT 的 token 是 (p, p, C)，"
                    "通道在最后。")),
            (grid.permute(0, 4, 2, 3, 5, 1).reshape(B, h * w, p * p * C),
             say(en="patches numbered column by column; number them row-major: left to right, then top to bottom.",
                 zh="patch 是按列编号的；应按行优先编号：从左到右，再从上到下。")),
            (x.reshape(B, h * w, p * p * C),
             say(en="a plain reshape without a permute: a token is then a run of consecutive memory, not a patch. "
                    "Split H and W into (H/p, p) and (W/p, p) and permute before flattening.",
                 zh="直接 reshape 而没有 permute：这样一个 token 只是一段连续内存，而不是一个 patch。要先把 H、W 拆成 "
                    "(H/p, p) 和 (W/p, p)，permute 之后再展平。")))


def likely_unpatchify_mistakes(tokens, p, C, H, W):
    B, h, w = tokens.size(0), H // p, W // p
    return ((tokens.reshape(B, h, w, p, p, C).permute(0, 5, 1, 2, 3, 4).reshape(B, C, H, W),
             say(en="permuted to (B, C, h, w, p, p) before merging, so each image row mixes pixels of different "
                    "patches; the inverse needs (B, C, h, p, w, p).",
                 zh="合并前 permute 成了 (B, C, h, w, p, p)，图像的每一行混入了不同 patch 的像素；逆变换需要 "
                    "(B, C, h, p, w, p)。")),)


def patches_oracle(x, p):
    """(B, N, p·p·C) by loops: token n = patch (n // (W/p), n % (W/p)), entries in (i, j, ch) order."""
    B, C, H, W = x.shape
    h, w = H // p, W // p
    out = torch.empty(B, h * w, p * p * C, dtype=x.dtype)
    for n in range(h * w):
        r, c = divmod(n, w)
        for i in range(p):
            for j in range(p):
                for ch in range(C):
                    out[:, n, (i * p + j) * C + ch] = x[:, ch, r * p + i, c * p + j]
    return out


def image_oracle(tokens, p, C, H, W):
    """(B, C, H, W) by loops: the inverse placement."""
    B = tokens.size(0)
    w = W // p
    out = torch.empty(B, C, H, W, dtype=tokens.dtype)
    for n in range(tokens.size(1)):
        r, c = divmod(n, w)
        for i in range(p):
            for j in range(p):
                for ch in range(C):
                    out[:, ch, r * p + i, c * p + j] = tokens[:, n, (i * p + j) * C + ch]
    return out


def call_patchify(impl, x, p):
    B, C, H, W = x.shape
    what = f"patchify(x: {tuple(x.shape)}, p={p})"
    out = impl.patchify(x, p)
    expect_tensor(out, what, shape=(B, (H // p) * (W // p), p * p * C), dtype=x.dtype)
    return out, what


def call_unpatchify(impl, tokens, p, C, H, W):
    what = f"unpatchify(tokens: {tuple(tokens.shape)}, p={p}, C={C}, H={H}, W={W})"
    out = impl.unpatchify(tokens, p, C, H, W)
    expect_tensor(out, what, shape=(tokens.size(0), C, H, W), dtype=tokens.dtype)
    return out, what


def test_token_n_holds_patch_in_row_major_order(impl):
    # Each pixel is labelled by its position, so a misplaced value shows exactly where it came from.
    H, W, p = 6, 6, 2
    x = torch.arange(H * W, dtype=torch.float32).reshape(1, 1, H, W)
    out, what = call_patchify(impl, x, p)
    firsts = out[0, :, 0].long().tolist()  # top-left pixel of each patch: 12·row + 2·col
    want = [W * p * (n // (W // p)) + p * (n % (W // p)) for n in range(9)]
    expect(firsts == want,
           say(en=f"{what} on x[0, 0] = arange(36).reshape(6, 6): the top-left pixel of tokens 0…8 is {firsts}, "
                  f"expected {want} — token n is the patch in patch-row n // (W/p) and patch-column n % (W/p) "
                  "(row-major: left to right, then top to bottom), not column-major and not a plain reshape without "
                  "a permute.",
               zh=f"x[0, 0] = arange(36).reshape(6, 6) 时，{what} 中 token 0…8 的左上角像素是 {firsts}，应为 {want}"
                  "——第 n 个 token 是第 n // (W/p) 个 patch 行、第 n % (W/p) 个 patch 列的那个 patch（行优先：从左到"
                  "右，再从上到下），不是列优先，也不是不经 permute 的直接 reshape。"))
    expect_close(out, patches_oracle(x, p), what, atol=0.0, rtol=0.0, hint=HINT, likely=likely_patchify_mistakes(x, p))


def test_inner_order_is_p_p_C_channels_last(impl):
    # x[b, ch, y, x] = 100·ch + 10·y + x: every value names its channel and pixel.
    C, H, W, p = 3, 4, 4, 2
    ch, yy, xx = torch.meshgrid(torch.arange(C), torch.arange(H), torch.arange(W), indexing="ij")
    x = (100 * ch + 10 * yy + xx).float().unsqueeze(0)
    out, what = call_patchify(impl, x, p)
    got = out[0, 0].long().tolist()
    want = [100 * c + 10 * i + j for i in range(p) for j in range(p) for c in range(C)]
    expect(got == want,
           say(en=f"{what}, x[0, ch, y, x] = 100·ch + 10·y + x: token 0 is {got}, expected {want} (pixel (0,0) "
                  f"channels 0,1,2, then pixel (0,1), …). {INNER_HINT.en}",
               zh=f"{what}，x[0, ch, y, x] = 100·ch + 10·y + x：token 0 是 {got}，应为 {want}（先是像素 (0,0) 的通道 "
                  f"0,1,2，然后是像素 (0,1)，……）。{INNER_HINT.zh}"))


def test_matches_loops_on_non_square_images(impl):
    g = torch.Generator().manual_seed(0)
    for shape, p in (((2, 3, 4, 8), 2), ((1, 2, 6, 3), 3), ((2, 4, 8, 4), 4)):
        x = torch.randn(*shape, generator=g)
        out, what = call_patchify(impl, x, p)
        expect_close(out, patches_oracle(x, p), what, atol=0.0, rtol=0.0,
                     hint=say(en=HINT.en + " With H ≠ W, there are W/p patches per row and H/p per column; do not swap "
                                           "them.",
                              zh=HINT.zh + "H ≠ W 时，每行有 W/p 个 patch、每列有 H/p 个；不要弄反。"),
                     likely=likely_patchify_mistakes(x, p))


def test_unpatchify_places_every_token(impl):
    g = torch.Generator().manual_seed(1)
    for (B, C, H, W), p in (((2, 3, 4, 6), 2), ((1, 2, 9, 3), 3)):
        tokens = torch.randn(B, (H // p) * (W // p), p * p * C, generator=g)
        out, what = call_unpatchify(impl, tokens, p, C, H, W)
        expect_close(out, image_oracle(tokens, p, C, H, W), what, atol=0.0, rtol=0.0, hint=UNPATCHIFY_HINT,
                     likely=likely_unpatchify_mistakes(tokens, p, C, H, W))


def test_round_trip_is_exact_both_ways(impl):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 4, 6, 10, generator=g)
    before = x.clone()
    tokens, what = call_patchify(impl, x, 2)
    expect_unchanged(before, x, say(en="the image x passed to patchify", zh="传给 patchify 的图像 x"))
    back, what_back = call_unpatchify(impl, tokens.clone(), 2, 4, 6, 10)
    expect_close(back, x, f"{what_back} ∘ {what}", atol=0.0, rtol=0.0, hint=UNPATCHIFY_HINT,
                 likely=likely_unpatchify_mistakes(tokens, 2, 4, 6, 10))
    t = torch.randn(2, 15, 4 * 4, generator=g)
    t_before = t.clone()
    img, _ = call_unpatchify(impl, t, 2, 4, 6, 10)
    expect_unchanged(t_before, t, say(en="the tokens passed to unpatchify", zh="传给 unpatchify 的 tokens"))
    again, _ = call_patchify(impl, img, 2)
    expect_close(again, t, "patchify(unpatchify(tokens (2, 15, 16), p=2, C=4, H=6, W=10))", atol=0.0,
                 rtol=0.0, hint=UNPATCHIFY_HINT)


def test_patch_size_one_and_whole_image(impl):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 4, 4, generator=g)
    out, what = call_patchify(impl, x, 1)  # every pixel is a token of its C channels
    expect_close(out, x.permute(0, 2, 3, 1).reshape(2, 16, 3), what, atol=0.0, rtol=0.0,
                 hint=say(en="With p = 1 the tokens are the pixels in row-major order, each holding its C channels. "
                             + HINT.en,
                          zh="p = 1 时 token 就是按行优先排列的像素，每个包含它的 C 个通道。" + HINT.zh),
                 likely=likely_patchify_mistakes(x, 1))
    out, what = call_patchify(impl, x, 4)  # one token: the whole image, channels last
    expect_close(out, x.permute(0, 2, 3, 1).reshape(2, 1, 48), what, atol=0.0, rtol=0.0, hint=INNER_HINT,
                 likely=likely_patchify_mistakes(x, 4))


def test_deterministic(impl):
    x = torch.randn(1, 2, 4, 4)
    expect_deterministic(impl.patchify, x, 2, what="patchify(x, 2)")


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 2**16))
def test_property_any_shape(impl, B, C, h, w, p, seed):
    x = torch.randn(B, C, h * p, w * p, generator=torch.Generator().manual_seed(seed))
    out, what = call_patchify(impl, x, p)
    expect_close(out, patches_oracle(x, p), what, atol=0.0, rtol=0.0, hint=HINT, likely=likely_patchify_mistakes(x, p))
    back, what_back = call_unpatchify(impl, out.clone(), p, C, h * p, w * p)
    expect_close(back, x, f"{what_back} ∘ {what}", atol=0.0, rtol=0.0, hint=UNPATCHIFY_HINT,
                 likely=likely_unpatchify_mistakes(out.detach(), p, C, h * p, w * p))
