"""sft-loss: next-token cross-entropy (logits t → token t + 1) averaged over the response tokens of the whole batch."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, say

HINT = say(en="Shift first: logits[:, :-1] predict input_ids[:, 1:], and loss_mask[:, 1:] says which of those targets "
              "count; then ONE mean of the cross-entropy over every counted token of the batch.",
           zh="先移位：logits[:, :-1] 预测 input_ids[:, 1:]，loss_mask[:, 1:] 指出其中哪些目标计入损失；"
              "然后对整个 batch 中所有计入的 token 的交叉熵只求一次平均。")


def likely_sft_mistakes(logits, input_ids, loss_mask):
    """What the usual mistakes give on these inputs, each with its cause (expect_scalar(likely=...))."""
    lp = torch.log_softmax(logits.detach().double(), -1)
    nll = -lp[:, :-1].gather(-1, input_ids[:, 1:, None])[..., 0]  # (B, T-1)
    m = loss_mask[:, 1:].bool()
    out = [(nll.mean(),
            say(en="every position counts, prompt and padding included; count only the targets where loss_mask[:, 1:] "
                   "is True.",
                zh="所有位置都计入了损失，包括提示和填充；只应计入 loss_mask[:, 1:] 为 True 的目标。"))]
    early = loss_mask[:, :-1].bool()
    if early.any():
        out.append((nll[early].mean(),
                    say(en="loss_mask[:, :-1] instead of loss_mask[:, 1:]; the mask belongs to the TARGETS, so shift it "
                           "together with input_ids.",
                        zh="用了 loss_mask[:, :-1] 而不是 loss_mask[:, 1:]；掩码对应的是目标，要和 input_ids 一起移位。")))
    rows = m.any(-1)
    if rows.any():
        out.append((torch.stack([nll[b][m[b]].mean() for b in range(nll.size(0)) if rows[b]]).mean(),
                    say(en="a mean of per-sequence means; take ONE mean over all counted tokens of the batch.",
                        zh="先对每条序列求平均再对序列求平均；应对整个 batch 中所有计入的 token 只求一次平均。")))
    full = loss_mask.bool()
    if full.any():
        same = -lp.gather(-1, input_ids[..., None])[..., 0]
        out.append((same[full].mean(),
                    say(en="no shift: the logits at position t are scored against input_ids[:, t]; score "
                           "logits[:, :-1] against input_ids[:, 1:].",
                        zh="没有移位：位置 t 的 logits 与 input_ids[:, t] 比较；应拿 logits[:, :-1] 与 input_ids[:, 1:] 比较。")))
    return tuple((v.float(), c) for v, c in out)


def oracle(logits, input_ids, loss_mask):
    """F.cross_entropy in float64 on the shifted tensors, uncounted targets set to ignore_index."""
    target = input_ids[:, 1:].clone()
    target[~loss_mask[:, 1:].bool()] = -100
    V = logits.size(-1)
    return F.cross_entropy(logits[:, :-1].double().reshape(-1, V), target.reshape(-1), ignore_index=-100)


def batch(B, T, V, seed, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(B, T, V, generator=g)
    ids = torch.randint(0, V, (B, T), generator=g)
    return logits, ids


def prompt_response_mask(prompt_lens, lengths, T):
    """True on response tokens: positions prompt_len ≤ t < length; prompt and right padding False."""
    t = torch.arange(T)
    return torch.stack([(t >= p) & (t < n) for p, n in zip(prompt_lens, lengths)])


def test_matches_cross_entropy_oracle(impl):
    logits, ids = batch(3, 7, 11, seed=0)
    mask = prompt_response_mask([2, 3, 1], [7, 5, 6], 7)
    got = impl.sft_loss(logits, ids, mask)
    expect_scalar(got, oracle(logits, ids, mask), "sft_loss(logits (3, 7, 11), input_ids (3, 7), loss_mask (3, 7))",
                  atol=1e-5, rtol=1e-5, hint=HINT, likely=likely_sft_mistakes(logits, ids, mask))


def test_logits_at_t_predict_the_next_token(impl):
    # Logits that put +12 on input_ids[:, t + 1] at position t: a perfect next-token predictor has loss ~0.
    B, T, V = 2, 6, 5
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, V, (B, T), generator=g)
    logits = torch.zeros(B, T, V)
    logits[:, :-1].scatter_(-1, ids[:, 1:, None], 12.0)
    mask = prompt_response_mask([2, 1], [6, 6], T)
    got = impl.sft_loss(logits, ids, mask)
    expect_scalar(got, oracle(logits, ids, mask),
                  say(en="sft_loss for logits that predict input_ids[:, t + 1] at position t",
                      zh="位置 t 的 logits 预测 input_ids[:, t + 1] 时的 sft_loss"),
                  atol=1e-5, rtol=1e-4,
                  hint=say(en="The loss should be ~0 here: position t's logits are scored against the NEXT token "
                              "input_ids[:, t + 1] (logits[:, :-1] vs input_ids[:, 1:]), not against input_ids[:, t].",
                           zh="这里损失应约为 0：位置 t 的 logits 要与下一个 token input_ids[:, t + 1] 比较"
                              "（logits[:, :-1] 对 input_ids[:, 1:]），而不是与 input_ids[:, t] 比较。"),
                  likely=likely_sft_mistakes(logits, ids, mask))


def test_mask_is_shifted_with_the_targets(impl):
    # The response starts at token 3, so the first counted prediction is made at position 2.
    logits, ids = batch(1, 6, 7, seed=2)
    mask = prompt_response_mask([3], [6], 6)
    got = impl.sft_loss(logits, ids, mask)
    nll = -torch.log_softmax(logits[0].double(), -1)
    want = sum(nll[t, ids[0, t + 1]] for t in (2, 3, 4)) / 3
    expect_scalar(got, want, say(en="sft_loss with a prompt of 3 tokens and a response of 3 (tokens 3, 4, 5)",
                                 zh="提示 3 个 token、回答 3 个 token（token 3、4、5）时的 sft_loss"), atol=1e-5,
                  rtol=1e-5,
                  hint=say(en="Token t + 1 is predicted at position t, so loss_mask[:, t + 1] (not loss_mask[:, t]) "
                              "decides whether position t counts: here positions 2, 3, 4 count, and position 5 predicts "
                              "nothing.",
                           zh="token t + 1 是在位置 t 预测的，所以决定位置 t 是否计入的是 loss_mask[:, t + 1]（不是 "
                              "loss_mask[:, t]）：这里计入的是位置 2、3、4，位置 5 不预测任何东西。"),
                  likely=likely_sft_mistakes(logits, ids, mask))


def test_prompt_and_padding_tokens_do_not_count(impl):
    logits, ids = batch(2, 8, 9, seed=3)
    mask = prompt_response_mask([3, 2], [8, 5], 8)
    base = impl.sft_loss(logits, ids, mask)
    # Scramble everything that must not matter: the logits of positions whose next token is not a target,
    # and the prompt/padding token ids themselves (only ever targets of uncounted positions).
    counted_pos = torch.zeros(2, 8, dtype=torch.bool)
    counted_pos[:, :-1] = mask[:, 1:]
    g = torch.Generator().manual_seed(30)
    noisy = torch.where(counted_pos[..., None], logits, 50 * torch.randn(2, 8, 9, generator=g))
    noisy_ids = torch.where(mask, ids, torch.randint(0, 9, (2, 8), generator=g))
    noisy_ids[:, 0] = ids[:, 0]
    other = impl.sft_loss(noisy, noisy_ids, mask)
    expect_scalar(other, float(base), say(en="sft_loss after changing the logits and token ids of prompt/padding positions",
                                          zh="改动提示/填充位置的 logits 和 token id 之后的 sft_loss"),
                  atol=1e-5, rtol=1e-5,
                  hint=say(en="Only the predictions of response tokens may count: select with loss_mask[:, 1:] "
                              "(shifted), both in the numerator and in the count.",
                           zh="只有对回答 token 的预测可以计入：用（移位后的）loss_mask[:, 1:] 选择，分子和计数都要如此。"))


def test_first_mask_entry_is_ignored(impl):
    logits, ids = batch(2, 5, 6, seed=4)
    mask = prompt_response_mask([0, 2], [5, 5], 5)  # row 0 has loss_mask[0, 0] = True
    mask_off = mask.clone()
    mask_off[:, 0] = False
    a, b = impl.sft_loss(logits, ids, mask), impl.sft_loss(logits, ids, mask_off)
    expect_scalar(a, float(b), say(en="sft_loss with loss_mask[:, 0] True versus False",
                                   zh="loss_mask[:, 0] 为 True 与为 False 时的 sft_loss 对比"), atol=1e-6, rtol=1e-6,
                  hint=say(en="The first token is never a target (nothing predicts it): loss_mask[:, 0] must not change "
                              "the loss, neither the sum nor the number of counted tokens — use loss_mask[:, 1:].",
                           zh="第一个 token 永远不是目标（没有位置预测它）：loss_mask[:, 0] 不能改变损失，既不影响求和，"
                              "也不影响计入的 token 数——要用 loss_mask[:, 1:]。"))


def test_one_mean_over_tokens_not_a_mean_of_sequence_means(impl):
    # A long response (6 targets) and a short one (1 target): a token mean weights them 6:1.
    logits, ids = batch(2, 8, 5, seed=5)
    mask = prompt_response_mask([2, 6], [8, 7], 8)
    got = impl.sft_loss(logits, ids, mask)
    nll = -torch.log_softmax(logits.double(), -1)[:, :-1].gather(-1, ids[:, 1:, None])[..., 0]
    m = mask[:, 1:]
    per_seq = torch.stack([nll[b][m[b]].mean() for b in range(2)]).mean()
    token_mean = nll[m].mean()
    expect(abs(float(per_seq) - float(token_mean)) > 0.05, say(en="test setup: the two means should differ",
                                                           zh="测试设置：两种均值应当不同"))
    expect_scalar(got, token_mean, say(en="sft_loss on responses with 6 and 1 target tokens",
                                       zh="回答分别有 6 个和 1 个目标 token 时的 sft_loss"), atol=1e-5, rtol=1e-5,
                  hint=say(en=f"Average over all counted TOKENS of the batch at once (here {float(token_mean):.4f}); the "
                              f"mean of per-sequence means ({float(per_seq):.4f}) over-weights short responses.",
                           zh=f"对整个 batch 中所有计入的 token 一次性求平均（这里是 {float(token_mean):.4f}）；"
                              f"对每条序列的均值再求平均（{float(per_seq):.4f}）会高估短回答的权重。"),
                  likely=likely_sft_mistakes(logits, ids, mask))


def test_float_mask_gives_the_same_loss(impl):
    logits, ids = batch(2, 6, 7, seed=6)
    mask = prompt_response_mask([1, 3], [6, 6], 6)
    a = impl.sft_loss(logits, ids, mask)
    b = impl.sft_loss(logits, ids, mask.float())
    expect_scalar(b, float(a), say(en="sft_loss with a 0/1 float loss_mask versus the same bool mask",
                                   zh="0/1 浮点 loss_mask 与同样的布尔掩码下的 sft_loss 对比"), atol=1e-6, rtol=1e-6,
                  hint=say(en="A float 0/1 mask must select the same tokens (convert with .bool(), or multiply and "
                              "divide by mask.sum()).",
                           zh="0/1 浮点掩码必须选出同样的 token（用 .bool() 转换，或者相乘后除以 mask.sum()）。"))


def test_stable_for_large_logits(impl):
    logits, ids = batch(2, 5, 6, seed=7, scale=60.0)  # logits up to ~200: exp() overflows float32
    mask = prompt_response_mask([1, 2], [5, 5], 5)
    got = impl.sft_loss(logits, ids, mask)
    expect(bool(torch.isfinite(got)),
           say(en=f"sft_loss with logits of magnitude ~200 returned {got}; exp(200) overflows float32 — use "
                  "F.cross_entropy or log_softmax (which subtract the max) instead of log(softmax).",
               zh=f"logits 量级约 200 时 sft_loss 返回了 {got}；exp(200) 在 float32 下溢出——要用 F.cross_entropy 或 "
                  "log_softmax（它们会先减去最大值），不要用 log(softmax)。"))
    expect_scalar(got, oracle(logits, ids, mask),
                  say(en="sft_loss with logits of magnitude ~200", zh="logits 量级约 200 时的 sft_loss"),
                  atol=1e-3, rtol=1e-5, hint=HINT, likely=likely_sft_mistakes(logits, ids, mask))


def test_gradient_only_reaches_counted_positions(impl):
    logits, ids = batch(2, 6, 5, seed=8)
    mask = prompt_response_mask([2, 3], [6, 5], 6)
    logits.requires_grad_(True)
    impl.sft_loss(logits, ids, mask).backward()
    expect(logits.grad is not None, say(en="sft_loss must be differentiable w.r.t. the logits", zh="sft_loss 必须对 logits 可微"))
    counted_pos = torch.zeros(2, 6, dtype=torch.bool)
    counted_pos[:, :-1] = mask[:, 1:]
    stray = logits.grad.abs().sum(-1)[~counted_pos]
    expect(bool((stray == 0).all()),
           say(en="the logits of positions whose next token is prompt or padding (and of the last position) got a "
                  "non-zero gradient; only predictions of response tokens may count. ",
               zh="下一个 token 是提示或填充的位置（以及最后一个位置）的 logits 得到了非零梯度；只有对回答 token 的预测"
                  "可以计入。") + HINT)
    # Closed form: dL/dlogits[b, t] = (softmax − onehot(target)) / n for counted positions.
    n = int(counted_pos.sum())
    p = torch.softmax(logits.detach().double(), -1)
    want = torch.zeros(2, 6, 5, dtype=torch.float64)
    onehot = F.one_hot(ids[:, 1:], 5).double()
    want[:, :-1] = (p[:, :-1] - onehot) * counted_pos[:, :-1, None] / n
    expect_close(logits.grad, want.float(), "d sft_loss / d logits", atol=1e-6, rtol=1e-4,
                 hint=say(en="Each counted token's gradient is (softmax − one-hot)/N with N the number of counted "
                             "tokens in the batch.",
                          zh="每个计入 token 的梯度是 (softmax − one-hot)/N，N 是 batch 中计入的 token 总数。"))


def test_returns_a_deterministic_float32_scalar(impl):
    logits, ids = batch(2, 5, 4, seed=9)
    mask = prompt_response_mask([1, 2], [5, 4], 5)
    got = expect_deterministic(impl.sft_loss, logits, ids, mask, what="sft_loss")
    expect_scalar(got, oracle(logits, ids, mask), "sft_loss(logits (2, 5, 4), ...)", atol=1e-5, rtol=1e-5, hint=HINT,
                  likely=likely_sft_mistakes(logits, ids, mask))


@given(st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**16))
def test_property_random_masks(impl, B, T, seed):
    logits, ids = batch(B, T, 5, seed)
    g = torch.Generator().manual_seed(seed + 1)
    mask = torch.rand(B, T, generator=g) < 0.5
    mask[:, -1] = True  # every row has at least one counted target
    expect_scalar(impl.sft_loss(logits, ids, mask), oracle(logits, ids, mask),
                  say(en=f"sft_loss on logits {(B, T, 5)} with a random loss_mask (seed {seed})",
                      zh=f"logits {(B, T, 5)}、随机 loss_mask（种子 {seed}）时的 sft_loss"), atol=1e-5, rtol=1e-5,
                  hint=HINT, likely=likely_sft_mistakes(logits, ids, mask))
