"""dit-patchify: (B, C, H, W) ↔ (B, N, p·p·C), patches in row-major order, each flattened in (p, p, C) order.

Oracles: explicit loops over patches, pixels and channels (pure data movement, so comparisons are exact).
"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, expect_unchanged

HINT = ("x.reshape(B, C, H/p, p, W/p, p).permute(0, 2, 4, 3, 5, 1).reshape(B, N, p·p·C): the patch grid first "
        "(patch-rows, then patch-columns: row-major), then row-in-patch, column-in-patch, channel.")
INNER_HINT = ("Inside a token the order is (p, p, C), channels LAST: entry (i·p + j)·C + ch is pixel (i, j) of the "
              "patch, channel ch. F.unfold and a Conv2d's weight flatten (C, p, p) — channels first — which is not "
              "the layout DiT's unpatchify reads.")
UNPATCHIFY_HINT = ("unpatchify must undo patchify exactly: tokens.reshape(B, H/p, W/p, p, p, C).permute(0, 5, 1, 3, "
                   "2, 4).reshape(B, C, H, W) (einsum 'bhwpqc->bchpwq'). Use the H and W you are given — do not "
                   "infer a square grid from √N.")


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
    what = f"patchify(x of shape {tuple(x.shape)}, p={p})"
    out = impl.patchify(x, p)
    expect_tensor(out, what, shape=(B, (H // p) * (W // p), p * p * C), dtype=x.dtype)
    return out, what


def call_unpatchify(impl, tokens, p, C, H, W):
    what = f"unpatchify(tokens of shape {tuple(tokens.shape)}, p={p}, C={C}, H={H}, W={W})"
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
           f"{what} on x[0, 0] = arange(36).reshape(6, 6): the top-left pixel of tokens 0…8 is {firsts}, expected "
           f"{want} — token n is the patch in patch-row n // (W/p) and patch-column n % (W/p) (row-major: left to "
           "right, then top to bottom), not column-major and not a plain reshape without a permute.")
    expect_close(out, patches_oracle(x, p), what, atol=0.0, rtol=0.0, hint=HINT)


def test_inner_order_is_p_p_C_channels_last(impl):
    # x[b, ch, y, x] = 100·ch + 10·y + x: every value names its channel and pixel.
    C, H, W, p = 3, 4, 4, 2
    ch, yy, xx = torch.meshgrid(torch.arange(C), torch.arange(H), torch.arange(W), indexing="ij")
    x = (100 * ch + 10 * yy + xx).float().unsqueeze(0)
    out, what = call_patchify(impl, x, p)
    got = out[0, 0].long().tolist()
    want = [100 * c + 10 * i + j for i in range(p) for j in range(p) for c in range(C)]
    expect(got == want,
           f"{what}, x[0, ch, y, x] = 100·ch + 10·y + x: token 0 is {got}, expected {want} (pixel (0,0) channels "
           f"0,1,2, then pixel (0,1), …). {INNER_HINT}")


def test_matches_loops_on_non_square_images(impl):
    g = torch.Generator().manual_seed(0)
    for shape, p in (((2, 3, 4, 8), 2), ((1, 2, 6, 3), 3), ((2, 4, 8, 4), 4)):
        x = torch.randn(*shape, generator=g)
        out, what = call_patchify(impl, x, p)
        expect_close(out, patches_oracle(x, p), what, atol=0.0, rtol=0.0,
                     hint=HINT + " With H ≠ W, there are W/p patches per row and H/p per column; do not swap them.")


def test_unpatchify_places_every_token(impl):
    g = torch.Generator().manual_seed(1)
    for (B, C, H, W), p in (((2, 3, 4, 6), 2), ((1, 2, 9, 3), 3)):
        tokens = torch.randn(B, (H // p) * (W // p), p * p * C, generator=g)
        out, what = call_unpatchify(impl, tokens, p, C, H, W)
        expect_close(out, image_oracle(tokens, p, C, H, W), what, atol=0.0, rtol=0.0, hint=UNPATCHIFY_HINT)


def test_round_trip_is_exact_both_ways(impl):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 4, 6, 10, generator=g)
    before = x.clone()
    tokens, what = call_patchify(impl, x, 2)
    expect_unchanged(before, x, "the image x passed to patchify")
    back, what_back = call_unpatchify(impl, tokens.clone(), 2, 4, 6, 10)
    expect_close(back, x, f"{what_back} applied to {what}", atol=0.0, rtol=0.0, hint=UNPATCHIFY_HINT)
    t = torch.randn(2, 15, 4 * 4, generator=g)
    t_before = t.clone()
    img, _ = call_unpatchify(impl, t, 2, 4, 6, 10)
    expect_unchanged(t_before, t, "the tokens passed to unpatchify")
    again, _ = call_patchify(impl, img, 2)
    expect_close(again, t, "patchify(unpatchify(tokens)) for tokens (2, 15, 16), p=2, C=4, H=6, W=10", atol=0.0,
                 rtol=0.0, hint=UNPATCHIFY_HINT)


def test_patch_size_one_and_whole_image(impl):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 4, 4, generator=g)
    out, what = call_patchify(impl, x, 1)  # every pixel is a token of its C channels
    expect_close(out, x.permute(0, 2, 3, 1).reshape(2, 16, 3), what, atol=0.0, rtol=0.0,
                 hint="With p = 1 the tokens are the pixels in row-major order, each holding its C channels. " + HINT)
    out, what = call_patchify(impl, x, 4)  # one token: the whole image, channels last
    expect_close(out, x.permute(0, 2, 3, 1).reshape(2, 1, 48), what, atol=0.0, rtol=0.0, hint=INNER_HINT)


def test_deterministic(impl):
    x = torch.randn(1, 2, 4, 4)
    expect_deterministic(impl.patchify, x, 2, what="patchify(x, 2)")


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 2**16))
def test_property_any_shape(impl, B, C, h, w, p, seed):
    x = torch.randn(B, C, h * p, w * p, generator=torch.Generator().manual_seed(seed))
    out, what = call_patchify(impl, x, p)
    expect_close(out, patches_oracle(x, p), what, atol=0.0, rtol=0.0, hint=HINT)
    back, what_back = call_unpatchify(impl, out.clone(), p, C, h * p, w * p)
    expect_close(back, x, f"{what_back} applied to {what}", atol=0.0, rtol=0.0, hint=UNPATCHIFY_HINT)
