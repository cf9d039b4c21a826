"""vit-patch-embedding: PatchEmbed (B, C, H, W) -> [cls; row-major patches · E] + pos_embed, (B, N + 1, d)."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

from _threads import one_thread  # noqa: F401  (autouse: every test here on one thread)

HINT = ("x = proj(x) gives (B, d, H/P, W/P); x.flatten(2).transpose(1, 2) gives (B, N, d) with the patches in "
        "row-major order (flatten H/P then W/P — do not reshape (B, d, N) straight to (B, N, d)); then "
        "torch.cat([cls_token.expand(B, -1, -1), x], dim=1) and + pos_embed on all N + 1 tokens.")


def make(impl, img_size, patch_size, in_chans, d_model, seed):
    """The learner's module with every parameter filled with known random values."""
    m = impl.PatchEmbed(img_size, patch_size, in_chans, d_model)
    expect(isinstance(getattr(m, "proj", None), nn.Conv2d) and m.proj.bias is not None,
           "PatchEmbed must have `proj` = nn.Conv2d(in_chans, d_model, patch_size, stride=patch_size) with its default "
           "bias (bias=True); the tests fill its weight and bias with known values.")
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name in ("cls_token", "pos_embed"):
            p = getattr(m, name)
            p.copy_(torch.randn(p.shape, generator=g))
        m.proj.weight.copy_(torch.randn(m.proj.weight.shape, generator=g) / patch_size)
        m.proj.bias.copy_(torch.randn(m.proj.bias.shape, generator=g))
    return m


def oracle(m, x, patch_size):
    """A loop over the grid, row by row: each patch flattened in (C, P, P) order times the conv's weight matrix."""
    B, C, H, W = x.shape
    P = patch_size
    E = m.proj.weight.detach().double().reshape(m.proj.weight.size(0), C * P * P)  # (d, C·P·P)
    tokens = [m.cls_token.detach().double().expand(B, 1, -1)[:, 0]]
    for r in range(H // P):
        for c in range(W // P):
            patch = x[:, :, r * P:(r + 1) * P, c * P:(c + 1) * P].double().reshape(B, C * P * P)
            tokens.append(patch @ E.T + m.proj.bias.detach().double())
    z = torch.stack(tokens, dim=1)  # (B, N + 1, d)
    return (z + m.pos_embed.detach().double()).float()


def test_parameters_and_submodule_have_the_contract_shapes(impl):
    m = impl.PatchEmbed(12, 4, 3, 10)
    expect(isinstance(getattr(m, "proj", None), nn.Conv2d),
           "PatchEmbed must have `proj` = nn.Conv2d(in_chans, d_model, patch_size, stride=patch_size)")
    conv = m.proj
    expect((conv.in_channels, conv.out_channels, tuple(conv.kernel_size), tuple(conv.stride)) == (3, 10, (4, 4), (4, 4)),
           f"PatchEmbed(12, 4, 3, 10).proj is Conv2d({conv.in_channels}, {conv.out_channels}, "
           f"kernel_size={tuple(conv.kernel_size)}, stride={tuple(conv.stride)}); expected Conv2d(3, 10, "
           "kernel_size=(4, 4), stride=(4, 4)) — kernel = stride = patch size, so the patches do not overlap.")
    names = dict(m.named_parameters())
    for name, shape in (("cls_token", (1, 1, 10)), ("pos_embed", (1, 10, 10))):
        expect(name in names, f"PatchEmbed must register `{name}` as an nn.Parameter (it is learned)")
        expect(tuple(names[name].shape) == shape,
               f"PatchEmbed(12, 4, 3, 10).{name} has shape {tuple(names[name].shape)}, expected {shape} "
               "(N = (12/4)² = 9 patches, plus 1 for the class token)")


def test_matches_a_loop_over_flattened_patches(impl):
    for img, P, C, d, B in ((8, 4, 3, 5, 2), (12, 4, 1, 6, 3), (6, 2, 2, 4, 1)):
        m = make(impl, img, P, C, d, seed=img + P)
        x = torch.randn(B, C, img, img, generator=torch.Generator().manual_seed(P))
        got = m(x)
        N = (img // P) ** 2
        what = f"PatchEmbed({img}, {P}, {C}, {d}) on x of shape {tuple(x.shape)}"
        expect_tensor(got, what, shape=(B, N + 1, d), dtype=torch.float32)
        expect_close(got, oracle(m, x, P), what, atol=1e-4, rtol=1e-4,
                     hint="Token 0 is cls_token + pos_embed[0]; token 1 + r·(grid) + c is patch (r, c) (row-major) "
                          "projected by proj, plus pos_embed[1 + r·grid + c]. " + HINT)


def test_class_token_comes_first_with_its_own_position(impl):
    m = make(impl, 8, 4, 3, 6, seed=1)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(11))
    got = m(x)
    expect_tensor(got, "PatchEmbed(8, 4, 3, 6) on (2, 3, 8, 8)", shape=(2, 5, 6), dtype=torch.float32)
    want = (m.cls_token + m.pos_embed[:, :1]).detach().expand(2, 1, 6)
    expect_close(got[:, :1], want, "token 0 of PatchEmbed's output (the class token)", atol=1e-5, rtol=1e-5,
                 hint="The class token goes FIRST (torch.cat([cls, patches], dim=1), not at the end) and gets "
                      "pos_embed[:, 0]: add the position embeddings after prepending it, to all N + 1 tokens. "
                      + HINT)
    x2 = x + torch.randn(x.shape, generator=torch.Generator().manual_seed(12))
    expect_close(m(x2)[:, :1], want, "token 0 after changing the image", atol=1e-5, rtol=1e-5,
                 hint="The class token does not depend on the image; only the patch tokens do. " + HINT)


def test_patches_are_in_row_major_order(impl):
    # One bright patch at grid row 0, column 2 of a 3×3 grid: it must land on token 1 + 0·3 + 2 = 3, not on token 7
    # (column-major would put it there).
    m = make(impl, 6, 2, 1, 4, seed=2)
    with torch.no_grad():
        m.pos_embed.zero_()
        m.proj.bias.zero_()
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 0:2, 4:6] = 1.0
    got = m(x)
    expect_tensor(got, "PatchEmbed(6, 2, 1, 4) on one image", shape=(1, 10, 4), dtype=torch.float32)
    norms = got[0, 1:].detach().norm(dim=-1)
    lit = [i + 1 for i in range(9) if norms[i] > 1e-6]
    expect(lit == [3],
           f"only the patch at grid row 0, column 2 is non-zero; it should become token 3 (1 + row·3 + column, "
           f"after the class token), but the non-zero patch tokens are {lit}. " + HINT)


def test_gradients_reach_every_parameter(impl):
    m = make(impl, 8, 4, 2, 3, seed=3)
    x = torch.randn(2, 2, 8, 8, generator=torch.Generator().manual_seed(13))
    m(x).pow(2).sum().backward()
    for name, p in m.named_parameters():
        expect(p.grad is not None and bool(p.grad.abs().sum() > 0),
               f"PatchEmbed parameter {name!r} got no gradient — is it used in forward (not a copy, not detached)?")


def test_deterministic_and_batch_independent(impl):
    m = make(impl, 8, 4, 3, 5, seed=4)
    x = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(14))
    x0 = x.clone()
    full = expect_deterministic(m, x, what="PatchEmbed.forward(x)")
    expect(torch.equal(x, x0), "PatchEmbed.forward modified its input in place")
    one = m(x[1:2])
    expect_close(full[1:2], one.detach(), "the output for image 1 of a batch of 3 vs. the same image alone",
                 atol=1e-5, rtol=1e-5,
                 hint="Each image's tokens depend on that image only: expand the class token over the batch, "
                      "do not mix images (e.g. by a reshape across the batch dimension). " + HINT)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 2**16))
def test_property_any_grid(impl, grid, P, C, d, B, seed):
    img = grid * P
    m = make(impl, img, P, C, d, seed=seed)
    x = torch.randn(B, C, img, img, generator=torch.Generator().manual_seed(seed + 1))
    expect_close(m(x), oracle(m, x, P), f"PatchEmbed({img}, {P}, {C}, {d}) on x of shape {tuple(x.shape)}",
                 atol=1e-4, rtol=1e-4, hint=HINT)
