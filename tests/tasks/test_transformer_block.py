"""transformer-block: pre-norm block x + attn(ln1(x)), then + ff(ln2(·)), against nn.TransformerEncoderLayer."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="Pre-norm: h = ln1(x); x = x + attn(h, h, h, mask); x = x + ff(ln2(x)). The residual adds the "
              "UN-normalized x, and each sublayer has its own layer norm.",
           zh="Pre-norm：h = ln1(x)；x = x + attn(h, h, h, mask)；x = x + ff(ln2(x))。残差加的是未归一化的 x，"
              "并且每个子层有自己的层归一化。")


def make(impl, d_model, n_heads, d_ff, seed=0, dropout=None):
    """The block under test with random weights, and nn.TransformerEncoderLayer (float64) with the same weights."""
    torch.manual_seed(seed)
    block = impl.TransformerBlock(d_model, n_heads, d_ff) if dropout is None \
        else impl.TransformerBlock(d_model, n_heads, d_ff, dropout)
    ref = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.0, activation="gelu", batch_first=True,
                                     norm_first=True).double()
    for name in ("ln1", "ln2", "attn", "ff"):
        expect(hasattr(block, name), say(en=f"TransformerBlock needs a submodule `{name}` (ln1, attn, ln2, ff)",
                                         zh=f"TransformerBlock 需要子模块 `{name}`（ln1、attn、ln2、ff）"))
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        expect(isinstance(getattr(block.attn, name, None), nn.Linear),
               say(en=f"TransformerBlock.attn needs a submodule `{name}` = nn.Linear({d_model}, {d_model})",
                   zh=f"TransformerBlock.attn 需要子模块 `{name}` = nn.Linear({d_model}, {d_model})"))
    expect(isinstance(block.ff, nn.Sequential) and len(block.ff) == 3 and isinstance(block.ff[0], nn.Linear)
           and isinstance(block.ff[2], nn.Linear),
           say(en=f"TransformerBlock.ff must be nn.Sequential(nn.Linear({d_model}, {d_ff}), nn.GELU(), "
                  f"nn.Linear({d_ff}, {d_model})); found {block.ff!r}",
               zh=f"TransformerBlock.ff 必须是 nn.Sequential(nn.Linear({d_model}, {d_ff}), nn.GELU(), "
                  f"nn.Linear({d_ff}, {d_model}))；实际是 {block.ff!r}"))
    g = torch.Generator().manual_seed(seed)

    def rand(*shape, scale=1.0, offset=0.0):
        return offset + scale * torch.randn(*shape, generator=g)

    pairs = [  # (parameter of the block, matching parameter of the oracle)
        (block.ln1.weight, ref.norm1.weight, rand(d_model, scale=0.3, offset=1.0)),
        (block.ln1.bias, ref.norm1.bias, rand(d_model, scale=0.3)),
        (block.ln2.weight, ref.norm2.weight, rand(d_model, scale=0.3, offset=1.0)),
        (block.ln2.bias, ref.norm2.bias, rand(d_model, scale=0.3)),
        (block.ff[0].weight, ref.linear1.weight, rand(d_ff, d_model, scale=d_model ** -0.5)),
        (block.ff[0].bias, ref.linear1.bias, rand(d_ff, scale=0.3)),
        (block.ff[2].weight, ref.linear2.weight, rand(d_model, d_ff, scale=d_ff ** -0.5)),
        (block.ff[2].bias, ref.linear2.bias, rand(d_model, scale=0.3)),
        (block.attn.out_proj.weight, ref.self_attn.out_proj.weight, rand(d_model, d_model, scale=d_model ** -0.5)),
        (block.attn.out_proj.bias, ref.self_attn.out_proj.bias, rand(d_model, scale=0.3)),
    ]
    with torch.no_grad():
        for mine, theirs, value in pairs:
            expect(tuple(mine.shape) == tuple(theirs.shape),
                   say(en=f"a parameter of TransformerBlock has shape {tuple(mine.shape)}, expected {tuple(theirs.shape)}",
                       zh=f"TransformerBlock 的一个参数形状是 {tuple(mine.shape)}，应为 {tuple(theirs.shape)}"))
            mine.copy_(value)
            theirs.copy_(value.double())
        projections = [block.attn.q_proj, block.attn.k_proj, block.attn.v_proj]
        for p in projections:
            p.weight.copy_(rand(d_model, d_model, scale=d_model ** -0.5))
            p.bias.copy_(rand(d_model, scale=0.3))
        ref.self_attn.in_proj_weight.copy_(torch.cat([p.weight for p in projections]).double())
        ref.self_attn.in_proj_bias.copy_(torch.cat([p.bias for p in projections]).double())
    return block.eval(), ref.eval()


def oracle(ref, x, mask=None):
    with torch.no_grad():
        return ref(x.double(), src_mask=None if mask is None else ~mask).float()  # PyTorch: True = blocked


def likely_block_mistakes(ref, x, mask=None):
    """What the usual mistakes give, built from the oracle's own float64 parts, each with its cause."""
    def attn(h, m):
        return ref.self_attn(h, h, h, attn_mask=None if m is None else ~m, need_weights=False)[0]

    def ff(h):
        return ref.linear2(ref.activation(ref.linear1(h)))

    n1, n2 = ref.norm1, ref.norm2
    with torch.no_grad():
        x = x.double()
        h = x + attn(n1(x), mask)
        out = [(n2(n1(x + attn(x, mask)) + ff(n1(x + attn(x, mask)))),
                say(en="post-norm, x = LN(x + sublayer(x)); the task asks for pre-norm: x = x + sublayer(LN(x)).",
                    zh="用了 post-norm，x = LN(x + sublayer(x))；本题要求 pre-norm：x = x + sublayer(LN(x))。")),
               ((lambda a: (lambda b: b + ff(b))(n2(a + attn(a, mask))))(n1(x)),
                say(en="x is overwritten by its normalized version, so the residual adds LN(x); keep the un-normalized "
                       "x for the residual: h = ln1(x); x = x + attn(h, ...).",
                    zh="x 被它归一化后的版本覆盖了，于是残差加的是 LN(x)；残差要用未归一化的 x：h = ln1(x)；"
                       "x = x + attn(h, ...)。")),
               (h + ff(n1(h)),
                say(en="ln1 is applied before the feed-forward too; the second sublayer uses its own ln2.",
                    zh="前馈层之前也用了 ln1；第二个子层要用它自己的 ln2。"))]
        if mask is not None:
            h0 = x + attn(n1(x), None)
            out.append((h0 + ff(n2(h0)),
                        say(en="the mask is never passed to the attention; call attn(h, h, h, mask).",
                            zh="掩码没有传给注意力；要调用 attn(h, h, h, mask)。")))
    return tuple((v.float(), c) for v, c in out)


def call(block, x, mask=None):
    return block(x) if mask is None else block(x, mask)


def test_matches_pytorch_without_mask(impl):
    block, ref = make(impl, 12, 3, 20)
    x = torch.randn(2, 5, 12)
    got = call(block, x)
    expect_tensor(got, "TransformerBlock(12, 3, 20)(x (2, 5, 12))", shape=(2, 5, 12), dtype=torch.float32)
    expect_close(got, oracle(ref, x), say(en="block output without a mask", zh="不带掩码时 block 的输出"), atol=1e-4, hint=HINT,
                 likely=likely_block_mistakes(ref, x))


def test_matches_pytorch_with_causal_mask(impl):
    block, ref = make(impl, 16, 4, 32, seed=1)
    x = torch.randn(3, 7, 16)
    mask = torch.ones(7, 7, dtype=torch.bool).tril()
    expect_close(call(block, x, mask), oracle(ref, x, mask),
                 say(en="block output with a (7, 7) causal mask (True = may attend)",
                     zh="带 (7, 7) 因果掩码（True = 可以关注）时 block 的输出"),
                 atol=1e-4, hint=HINT + say(en=" Pass the mask on to the attention.", zh="要把掩码传给注意力。"),
                 likely=likely_block_mistakes(ref, x, mask))


def test_causal_mask_makes_the_block_causal(impl):
    block, _ = make(impl, 8, 2, 16, seed=2)
    x = torch.randn(1, 6, 8)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    with torch.no_grad():
        out = call(block, x, mask)
        x2 = x.clone()
        x2[:, 3:] = torch.randn(1, 3, 8)
        out2 = call(block, x2, mask)
    expect_close(out2[:, :3], out[:, :3], say(en="outputs at positions 0..2 after changing the inputs at positions 3..5",
                                              zh="改动位置 3..5 的输入之后位置 0..2 的输出"),
                 atol=1e-5, hint=say(en="With a causal mask, position t must not see positions after t — is the mask "
                                        "passed on to the attention? ",
                                     zh="有因果掩码时，位置 t 不能看到 t 之后的位置——掩码传给注意力了吗？") + HINT)


def test_dropout_is_off_in_eval_mode(impl):
    block, ref = make(impl, 8, 2, 16, seed=3, dropout=0.5)
    x = torch.randn(2, 4, 8)
    expect_close(call(block, x), oracle(ref, x), say(en="TransformerBlock(8, 2, 16, dropout=0.5) in eval mode",
                                                     zh="eval 模式下的 TransformerBlock(8, 2, 16, dropout=0.5)"),
                 atol=1e-4, hint=say(en="Use nn.Dropout modules (they are the identity after .eval()). ",
                                     zh="要用 nn.Dropout 模块（调用 .eval() 之后它们就是恒等映射）。") + HINT,
                 likely=likely_block_mistakes(ref, x))


def test_gradients_reach_every_parameter(impl):
    block, _ = make(impl, 8, 2, 16, seed=4)
    block.train()
    call(block, torch.randn(2, 3, 8)).pow(2).sum().backward()
    for name, p in block.named_parameters():
        expect(p.grad is not None and bool(p.grad.abs().sum() > 0),
               say(en=f"parameter {name} of TransformerBlock received no gradient — is it used in forward (ln2 for "
                      "the feed-forward, ln1 for the attention)?",
                   zh=f"TransformerBlock 的参数 {name} 没有得到梯度——forward 里用到它了吗（前馈层用 ln2，注意力用 ln1）？"))


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 5), st.booleans(), st.integers(0, 2**16))
def test_property_any_shape(impl, n_heads, head_dim, B, T, causal, seed):
    d = n_heads * head_dim
    block, ref = make(impl, d, n_heads, 2 * d + 1, seed=seed)
    x = torch.randn(B, T, d, generator=torch.Generator().manual_seed(seed))
    mask = torch.ones(T, T, dtype=torch.bool).tril() if causal else None
    expect_close(call(block, x, mask), oracle(ref, x, mask),
                 f"TransformerBlock({d}, {n_heads}, {2 * d + 1})(x {tuple(x.shape)}), causal={causal}",
                 atol=1e-4, hint=HINT, likely=likely_block_mistakes(ref, x, mask))
