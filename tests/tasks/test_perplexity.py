"""perplexity: exp of the mean token NLL over non-ignored targets; logits (..., V), class dim last."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect_scalar, say

HINT = say(en="exp(mean NLL): log-softmax over the LAST dim (the vocabulary), pick each target's log-prob, drop positions "
              "whose target == ignore_index from both the sum and the count, average, then exp.",
           zh="exp(平均 NLL)：在最后一维（词表维）上做 log-softmax，取出每个目标的对数概率，把 target == ignore_index "
              "的位置从求和和计数中都去掉，求平均，再取 exp。")


def likely_ppl_mistakes(logits, targets, ignore_index=-100):
    """What the usual mistakes give on these inputs, each with its cause (expect_scalar(likely=...))."""
    V = logits.size(-1)
    flat, t = logits.double().reshape(-1, V), targets.reshape(-1)
    keep = t != ignore_index
    nll = -flat.log_softmax(-1).gather(-1, t.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    out = [(((nll * keep).sum() / t.numel()).exp().float(),
            say(en="the sum of the NLLs is divided by ALL positions, padding included; divide by the number of "
                   "non-ignored targets.",
                zh="NLL 之和除以了全部位置数（包括填充）；应除以未被忽略的目标个数。"))]
    if keep.any():
        out.append((nll[keep].exp().mean().float(),
                    say(en="an arithmetic mean of the per-token exp(NLL); average the NLLs first, then exponentiate once.",
                        zh="对逐 token 的 exp(NLL) 求了算术平均；应先对 NLL 求平均，再取一次 exp。")))
    if ignore_index != -100 and (t != -100).any():
        out.append((F.cross_entropy(flat, t).exp().float(),
                    say(en="F.cross_entropy without ignore_index=ignore_index ignores only -100; pass the argument on.",
                        zh="调用 F.cross_entropy 时没传 ignore_index=ignore_index，只会忽略 -100；要把参数传下去。")))
    if logits.dim() == 3 and keep.any():
        wrong = -logits.double().log_softmax(1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        out.append((wrong[targets != ignore_index].mean().exp().float(),
                    say(en="log-softmax over dim 1 (the time axis of (B, T, V)); normalize over the vocabulary, dim=-1.",
                        zh="在第 1 维（(B, T, V) 的时间维）上做了 log-softmax；应在词表维 dim=-1 上归一化。")))
    return tuple(out)


def oracle(logits, targets, ignore_index=-100):
    V = logits.size(-1)
    nll = F.cross_entropy(logits.double().reshape(-1, V), targets.reshape(-1), ignore_index=ignore_index)
    return nll.exp().item()


def test_matches_exp_cross_entropy_with_padding(impl):
    g = torch.Generator().manual_seed(0)
    logits = 2 * torch.randn(2, 5, 7, generator=g)  # (B, T, V)
    targets = torch.randint(0, 7, (2, 5), generator=g)
    targets[0, 3:] = -100  # padding
    targets[1, 4] = -100
    expect_scalar(impl.perplexity(logits, targets), oracle(logits, targets),
                  say(en="perplexity(logits (2, 5, 7), targets with -100 padding)",
                      zh="perplexity(logits (2, 5, 7), 含 -100 填充的 targets)"),
                  atol=1e-4, rtol=1e-4, hint=HINT, likely=likely_ppl_mistakes(logits, targets))


def test_non_default_ignore_index(impl):
    # Pad id 0 is also a real token id here: positions with target 0 must not count at all.
    g = torch.Generator().manual_seed(1)
    logits = 2 * torch.randn(3, 6, 5, generator=g)
    targets = torch.randint(0, 5, (3, 6), generator=g)
    targets[:, 4:] = 0
    for ignore_index in (0, 3):
        expect_scalar(impl.perplexity(logits, targets, ignore_index=ignore_index),
                      oracle(logits, targets, ignore_index), f"perplexity(..., ignore_index={ignore_index})",
                      atol=1e-4, rtol=1e-4,
                      hint=say(en="Use the ignore_index ARGUMENT (F.cross_entropy's default -100 is not it). ",
                               zh="要用参数 ignore_index（F.cross_entropy 默认的 -100 不是它）。") + HINT,
                      likely=likely_ppl_mistakes(logits, targets, ignore_index))


def test_two_dimensional_logits(impl):
    g = torch.Generator().manual_seed(2)
    logits, targets = torch.randn(9, 4, generator=g), torch.randint(0, 4, (9,), generator=g)
    expect_scalar(impl.perplexity(logits, targets), oracle(logits, targets), "perplexity(logits (9, 4), targets (9,))",
                  atol=1e-4, rtol=1e-4, hint=HINT, likely=likely_ppl_mistakes(logits, targets))


def test_uniform_logits_give_the_vocabulary_size(impl):
    targets = torch.tensor([[1, 5, 0, -100], [7, 2, -100, -100]])
    expect_scalar(impl.perplexity(torch.zeros(2, 4, 8), targets), 8.0,
                  say(en="perplexity of uniform logits over 8 tokens", zh="8 个 token 上均匀 logits 的困惑度"), atol=1e-4, rtol=1e-5,
                  hint=say(en="A uniform model over V tokens has NLL log V per token, so perplexity V.",
                           zh="V 个 token 上的均匀模型每个 token 的 NLL 是 log V，所以困惑度是 V。"),
                  likely=likely_ppl_mistakes(torch.zeros(2, 4, 8), targets))


def test_the_exp_comes_after_the_mean(impl):
    # One easy and one hard token: exp(mean NLL) ≠ mean(exp NLL).
    logits = torch.tensor([[[6.0, 0.0, 0.0], [0.0, 0.0, 6.0]]])
    targets = torch.tensor([[0, 0]])
    expect_scalar(impl.perplexity(logits, targets), oracle(logits, targets),
                  say(en="perplexity of one confident-correct and one confident-wrong token",
                      zh="一个自信且正确、一个自信但错误的 token 的困惑度"), atol=1e-3, rtol=1e-4,
                  hint=say(en="Average the NLLs first, then exponentiate once (a geometric mean of 1/p).",
                           zh="先对 NLL 求平均，再取一次 exp（即 1/p 的几何平均）。"),
                  likely=likely_ppl_mistakes(logits, targets))


@given(st.integers(1, 4), st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**16))
def test_property_any_shape_with_padding(impl, B, T, V, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(B, T, V, generator=g)
    targets = torch.randint(0, V, (B, T), generator=g)
    pad = torch.rand(B, T, generator=g) < 0.3
    pad[0, 0] = False  # at least one real token
    targets[pad] = -100
    expect_scalar(impl.perplexity(logits, targets), oracle(logits, targets),
                  say(en=f"perplexity(logits ({B}, {T}, {V}), {int(pad.sum())} padded targets)",
                      zh=f"perplexity(logits ({B}, {T}, {V}), {int(pad.sum())} 个填充目标)"), atol=1e-4, rtol=1e-4,
                  hint=HINT, likely=likely_ppl_mistakes(logits, targets))
