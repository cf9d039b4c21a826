"""vit-patch-embedding: PatchEmbed (B, C, H, W) -> [cls; row-major patches · E] + pos_embed, (B, N + 1, d)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

from _threads import one_thread  # noqa: F401  (autouse: every test here on one thread)

HINT = say(en="x = proj(x) gives (B, d, H/P, W/P); x.flatten(2).transpose(1, 2) gives (B, N, d) with the patches in "
              "row-major order (flatten H/P then W/P — do not reshape (B, d, N) straight to (B, N, d)); then "
              "torch.cat([cls_token.expand(B, -1, -1), x], dim=1) and + pos_embed on all N + 1 tokens.",
           zh="x = proj(x) 得到 (B, d, H/P, W/P)；x.flatten(2).transpose(1, 2) 得到按行优先排列补丁的 (B, N, d)"
              "（先 H/P 后 W/P 展平——不要把 (B, d, N) 直接 reshape 成 (B, N, d)）；然后 "
              "torch.cat([cls_token.expand(B, -1, -1), x], dim=1)，再给全部 N + 1 个 token 加上 pos_embed。")


def likely_vit_mistakes(m, x, P):
    """What the usual mistakes give with the module's own parameters (float64), each with its cause."""
    Wt, b = m.proj.weight.detach().double(), m.proj.bias.detach().double()
    cls, pos = m.cls_token.detach().double(), m.pos_embed.detach().double()
    B, C, H, _ = x.shape
    g, d = H // P, Wt.size(0)
    y = F.conv2d(x.double(), Wt, b, stride=P)  # (B, d, g, g)
    tokens = y.flatten(2).transpose(1, 2)
    c = cls.expand(B, -1, -1)
    patches = x.double().reshape(B, C, g, P, g, P).permute(0, 2, 4, 3, 5, 1).reshape(B, g * g, P * P * C)
    return tuple((v.float(), cause) for v, cause in (
        (torch.cat([tokens, c], dim=1) + pos,
         say(en="the class token is appended after the patches; it goes FIRST: torch.cat([cls, patches], dim=1).",
             zh="类别 token 被放在了补丁之后；它应放在最前面：torch.cat([cls, patches], dim=1)。")),
        (torch.cat([c, y.transpose(2, 3).flatten(2).transpose(1, 2)], dim=1) + pos,
         say(en="the patch grid is flattened column by column; flatten it row-major: x.flatten(2).transpose(1, 2).",
             zh="补丁网格按列展平了；应按行优先展平：x.flatten(2).transpose(1, 2)。")),
        (torch.cat([c, patches @ Wt.reshape(d, -1).T + b], dim=1) + pos,
         say(en="each patch is flattened in (P, P, C) order but multiplied by the conv weight flattened in (C, P, P) "
                "order; use proj (the Conv2d) itself, or flatten patches as (C, P, P).",
             zh="每个补丁按 (P, P, C) 顺序展平，却乘以按 (C, P, P) 顺序展平的卷积权重；直接用 proj（Conv2d），"
                "或者按 (C, P, P) 展平补丁。")),
        (torch.cat([c, tokens + pos[:, :g * g]], dim=1),
         say(en="the position embeddings are added before prepending the class token; prepend it first, then add "
                "pos_embed to all N + 1 tokens.",
             zh="在拼接类别 token 之前就加了位置嵌入；应先拼接类别 token，再给全部 N + 1 个 token 加 pos_embed。")),
        (torch.cat([c, y.reshape(B, -1, d)], dim=1) + pos,
         say(en="(B, d, H/P, W/P) is reshaped straight to (B, N, d), mixing features of different patches; use "
                "x.flatten(2).transpose(1, 2).",
             zh="把 (B, d, H/P, W/P) 直接 reshape 成 (B, N, d)，混合了不同补丁的特征；应使用 x.flatten(2).transpose(1, 2)。"))))


def make(impl, img_size, patch_size, in_chans, d_model, seed):
    """The learner's module with every parameter filled with known random values."""
    m = impl.PatchEmbed(img_size, patch_size, in_chans, d_model)
    expect(isinstance(getattr(m, "proj", None), nn.Conv2d) and m.proj.bias is not None,
           say(en="PatchEmbed must have `proj` = nn.Conv2d(in_chans, d_model, patch_size, stride=patch_size) with its "
                  "default bias (bias=True); the tests fill its weight and bias with known values.",
               zh="PatchEmbed 必须有 `proj` = nn.Conv2d(in_chans, d_model, patch_size, stride=patch_size)，并保留默认偏置"
                  "（bias=True）；测试会把它的权重和偏置填成已知的值。"))
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
           say(en="PatchEmbed must have `proj` = nn.Conv2d(in_chans, d_model, patch_size, stride=patch_size)",
               zh="PatchEmbed 必须有 `proj` = nn.Conv2d(in_chans, d_model, patch_size, stride=patch_size)"))
    conv = m.proj
    expect((conv.in_channels, conv.out_channels, tuple(conv.kernel_size), tuple(conv.stride)) == (3, 10, (4, 4), (4, 4)),
           say(en=f"PatchEmbed(12, 4, 3, 10).proj is Conv2d({conv.in_channels}, {conv.out_channels}, "
                  f"kernel_size={tuple(conv.kernel_size)}, stride={tuple(conv.stride)}); expected Conv2d(3, 10, "
                  "kernel_size=(4, 4), stride=(4, 4)) — kernel = stride = patch size, so the patches do not overlap.",
               zh=f"PatchEmbed(12, 4, 3, 10).proj 是 Conv2d({conv.in_channels}, {conv.out_channels}, "
                  f"kernel_size={tuple(conv.kernel_size)}, stride={tuple(conv.stride)})；应为 Conv2d(3, 10, "
                  "kernel_size=(4, 4), stride=(4, 4))——卷积核 = 步长 = 补丁大小，补丁之间才不重叠。"))
    names = dict(m.named_parameters())
    for name, shape in (("cls_token", (1, 1, 10)), ("pos_embed", (1, 10, 10))):
        expect(name in names, say(en=f"PatchEmbed must register `{name}` as an nn.Parameter (it is learned)",
                                  zh=f"PatchEmbed 必须把 `{name}` 注册为 nn.Parameter（它是可学习的）"))
        expect(tuple(names[name].shape) == shape,
               say(en=f"PatchEmbed(12, 4, 3, 10).{name} has shape {tuple(names[name].shape)}, expected {shape} "
                      "(N = (12/4)² = 9 patches, plus 1 for the class token)",
                   zh=f"PatchEmbed(12, 4, 3, 10).{name} 的形状是 {tuple(names[name].shape)}，应为 {shape}"
                      "（N = (12/4)² = 9 个补丁，再加 1 个类别 token）"))


def test_matches_a_loop_over_flattened_patches(impl):
    for img, P, C, d, B in ((8, 4, 3, 5, 2), (12, 4, 1, 6, 3), (6, 2, 2, 4, 1)):
        m = make(impl, img, P, C, d, seed=img + P)
        x = torch.randn(B, C, img, img, generator=torch.Generator().manual_seed(P))
        got = m(x)
        N = (img // P) ** 2
        what = f"PatchEmbed({img}, {P}, {C}, {d})(x {tuple(x.shape)})"
        expect_tensor(got, what, shape=(B, N + 1, d), dtype=torch.float32)
        expect_close(got, oracle(m, x, P), what, atol=1e-4, rtol=1e-4,
                     hint=say(en="Token 0 is cls_token + pos_embed[0]; token 1 + r·(grid) + c is patch (r, c) "
                                 "(row-major) projected by proj, plus pos_embed[1 + r·grid + c]. ",
                              zh="第 0 个 token 是 cls_token + pos_embed[0]；第 1 + r·(grid) + c 个 token 是补丁 (r, c)"
                                 "（行优先）经 proj 投影后再加 pos_embed[1 + r·grid + c]。") + HINT,
                     likely=likely_vit_mistakes(m, x, P))


def test_class_token_comes_first_with_its_own_position(impl):
    m = make(impl, 8, 4, 3, 6, seed=1)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(11))
    got = m(x)
    expect_tensor(got, "PatchEmbed(8, 4, 3, 6)(x (2, 3, 8, 8))", shape=(2, 5, 6), dtype=torch.float32)
    want = (m.cls_token + m.pos_embed[:, :1]).detach().expand(2, 1, 6)
    likely = tuple((v[:, :1], c) for v, c in likely_vit_mistakes(m, x, 4))
    expect_close(got[:, :1], want, say(en="token 0 of PatchEmbed's output (the class token)",
                                       zh="PatchEmbed 输出的第 0 个 token（类别 token）"), atol=1e-5, rtol=1e-5,
                 hint=say(en="The class token goes FIRST (torch.cat([cls, patches], dim=1), not at the end) and gets "
                             "pos_embed[:, 0]: add the position embeddings after prepending it, to all N + 1 tokens. ",
                          zh="类别 token 放在最前面（torch.cat([cls, patches], dim=1)，不是放在末尾），并加上 "
                             "pos_embed[:, 0]：先拼接类别 token，再给全部 N + 1 个 token 加位置嵌入。") + HINT,
                 likely=likely)
    x2 = x + torch.randn(x.shape, generator=torch.Generator().manual_seed(12))
    expect_close(m(x2)[:, :1], want, say(en="token 0 after changing the image", zh="改动图像之后的第 0 个 token"),
                 atol=1e-5, rtol=1e-5,
                 hint=say(en="The class token does not depend on the image; only the patch tokens do. ",
                          zh="类别 token 与图像无关；只有补丁 token 依赖图像。") + HINT)


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
    expect_tensor(got, "PatchEmbed(6, 2, 1, 4)(x (1, 1, 6, 6))", shape=(1, 10, 4), dtype=torch.float32)
    norms = got[0, 1:].detach().norm(dim=-1)
    lit = [i + 1 for i in range(9) if norms[i] > 1e-6]
    cause = (say(en="Token 7 is where column-major flattening puts it: flatten the grid row-major, "
                    "x.flatten(2).transpose(1, 2). ",
                 zh="按列优先展平时它才会落在第 7 个 token：要按行优先展平网格，x.flatten(2).transpose(1, 2)。")
             if lit == [7] else HINT)
    expect(lit == [3],
           say(en=f"only the patch at grid row 0, column 2 is non-zero; it should become token 3 (1 + row·3 + column, "
                  f"after the class token), but the non-zero patch tokens are {lit}. ",
               zh=f"只有网格第 0 行第 2 列的补丁非零；它应成为第 3 个 token（类别 token 之后的 1 + 行·3 + 列），"
                  f"但非零的补丁 token 是 {lit}。") + cause)


def test_gradients_reach_every_parameter(impl):
    m = make(impl, 8, 4, 2, 3, seed=3)
    x = torch.randn(2, 2, 8, 8, generator=torch.Generator().manual_seed(13))
    m(x).pow(2).sum().backward()
    for name, p in m.named_parameters():
        expect(p.grad is not None and bool(p.grad.abs().sum() > 0),
               say(en=f"PatchEmbed parameter {name!r} got no gradient — is it used in forward (not a copy, not detached)?",
                   zh=f"PatchEmbed 的参数 {name!r} 没有得到梯度——forward 里用到它了吗（不是副本，也没有 detach）？"))


def test_deterministic_and_batch_independent(impl):
    m = make(impl, 8, 4, 3, 5, seed=4)
    x = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(14))
    x0 = x.clone()
    full = expect_deterministic(m, x, what="PatchEmbed.forward(x)")
    expect(torch.equal(x, x0), say(en="PatchEmbed.forward modified its input in place; use out-of-place ops.",
                                   zh="PatchEmbed.forward 原地修改了输入；要用非原地运算。"))
    one = m(x[1:2])
    expect_close(full[1:2], one.detach(), say(en="the output for image 1 of a batch of 3 vs. the same image alone",
                                              zh="batch 大小为 3 时第 1 张图像的输出与单独输入这张图像的输出对比"),
                 atol=1e-5, rtol=1e-5,
                 hint=say(en="Each image's tokens depend on that image only: expand the class token over the batch, "
                             "do not mix images (e.g. by a reshape across the batch dimension). ",
                          zh="每张图像的 token 只依赖该图像：把类别 token 在 batch 维上 expand，不要混合不同图像"
                             "（例如跨 batch 维的 reshape）。") + HINT)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 2**16))
def test_property_any_grid(impl, grid, P, C, d, B, seed):
    img = grid * P
    m = make(impl, img, P, C, d, seed=seed)
    x = torch.randn(B, C, img, img, generator=torch.Generator().manual_seed(seed + 1))
    expect_close(m(x), oracle(m, x, P), f"PatchEmbed({img}, {P}, {C}, {d})(x {tuple(x.shape)})",
                 atol=1e-4, rtol=1e-4, hint=HINT, likely=likely_vit_mistakes(m, x, P))
