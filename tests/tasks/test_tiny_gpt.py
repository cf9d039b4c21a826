"""tiny-gpt: a decoder-only Transformer LM — causal, position-aware, and a generate() that crops to max_len."""
import torch
import torch.nn.functional as F

from genprep.learner.checks import CheckFailed, expect, expect_tensor, say
from genprep.learner.optim import Adam  # torch.optim would import torch._dynamo: ~1 s per run

# The next character depends on the POSITION, not on the previous characters: inside the first run every position
# sees only 'a's, so a model without positional information computes the same prediction at positions 0..7 and
# cannot know where the run ends. A bigram model cannot do it either.
TEXT = "aaaaaaaabbbbbccccccaaabbbbbbbccd"
CHARS = sorted(set(TEXT))
DATA = torch.tensor([[CHARS.index(c) for c in TEXT]])  # (1, 32)
STEPS, LR, LOSS_BOUND, PROMPT = 500, 1e-2, 0.05, 4  # correct models typically need 10-80 steps; 500 leaves a wide margin


def decode(ids):
    return "".join(CHARS[i] for i in ids.tolist())


def scramble(model, seed):
    """Large random weights, so that any leak of information shows up clearly in the logits."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=g))
    return model.eval()


def greedy_oracle(model, prompt, steps, max_len):
    """Greedy decoding written out: feed the last max_len tokens, take the argmax of the LAST position's logits."""
    seq = prompt.clone()
    with torch.no_grad():
        for _ in range(steps):
            logits = model(seq[:, -max_len:])[:, -1, :]
            seq = torch.cat([seq, logits.argmax(-1, keepdim=True)], dim=1)
    return seq


def record_forward_lengths(model):
    """Wrap model.forward so that every sequence length it is fed is recorded."""
    lengths, original = [], model.forward

    def forward(idx, *args, **kwargs):
        lengths.append(idx.size(1))
        return original(idx, *args, **kwargs)

    model.forward = forward
    return lengths


def test_forward_shapes(impl):
    model = impl.TinyGPT(vocab_size=7, d_model=16, n_heads=2, n_layers=2, max_len=10).eval()
    for T in (1, 4, 10):
        idx = torch.randint(0, 7, (3, T))
        expect_tensor(model(idx), f"TinyGPT(vocab_size=7, ...)(idx (3, {T}))", shape=(3, T, 7),
                      dtype=torch.float32)


def test_causal_later_tokens_do_not_change_earlier_logits(impl):
    torch.manual_seed(0)
    model = scramble(impl.TinyGPT(vocab_size=7, d_model=16, n_heads=2, n_layers=2, max_len=12), seed=1)
    idx = torch.randint(0, 7, (2, 10))
    with torch.no_grad():
        logits = model(idx)
        for t in (0, 3, 7):
            changed = idx.clone()
            changed[:, t + 1:] = (idx[:, t + 1:] + 1 + torch.arange(9 - t)) % 7
            leak = (model(changed)[:, :t + 1] - logits[:, :t + 1]).abs().max().item()
            expect(leak < 1e-4,
                   say(en=f"changing the tokens after position {t} changed the logits at positions 0..{t} by up to "
                          f"{leak:.3g}: the model looks into the future. Mask the attention with a causal "
                          "(lower-triangular, True = may attend) mask in every layer.",
                       zh=f"改动位置 {t} 之后的 token，位置 0..{t} 的 logits 最多变了 {leak:.3g}：模型看到了未来。"
                          "每一层的注意力都要加因果掩码（下三角，True = 可以关注）。"))


def test_memorizes_a_position_dependent_text_and_greedy_generate_reproduces_it(impl):
    torch.manual_seed(0)
    V, T = len(CHARS), len(TEXT)
    model = impl.TinyGPT(vocab_size=V, d_model=32, n_heads=4, n_layers=2, max_len=T)
    model.train()
    opt = Adam(model.parameters(), lr=LR)
    inputs, targets = DATA[:, :-1], DATA[0, 1:]
    for step in range(STEPS):
        logits = model(inputs)
        if step == 0:
            expect_tensor(logits, f"model(idx {tuple(inputs.shape)})", shape=(1, T - 1, V), dtype=torch.float32)
        loss = F.cross_entropy(logits[0], targets)
        wrong = (logits[0].argmax(-1) != targets).nonzero().flatten().tolist()
        if loss.item() < LOSS_BOUND and not wrong:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    expect(loss.item() < LOSS_BOUND and not wrong,
           say(en=f"after {STEPS} Adam steps (lr {LR}) on the {T}-character text {TEXT!r}, the loss is "
                  f"{loss.item():.3f} (needs < {LOSS_BOUND}) and the next character is still predicted wrong at "
                  f"positions {wrong}. The next character depends on the position (inside the first run every prefix "
                  "is all 'a's), so the model must add position embeddings (learned or sinusoidal) to the token "
                  "embeddings.",
               zh=f"在 {T} 个字符的文本 {TEXT!r} 上用 Adam 训练 {STEPS} 步（lr {LR}）后，损失是 {loss.item():.3f}"
                  f"（需要 < {LOSS_BOUND}），并且在位置 {wrong} 上下一个字符仍预测错误。下一个字符取决于位置"
                  "（在第一段里每个前缀都全是 'a'），所以模型必须把位置嵌入（可学习的或正弦的）加到 token 嵌入上。"))
    model.eval()
    out = model.generate(DATA[:, :PROMPT], T - PROMPT, top_k=1)
    expect_tensor(out, f"generate(prompt (1, {PROMPT}), max_new_tokens={T - PROMPT}, top_k=1)",
                  shape=(1, T), dtype=torch.int64)
    shown = decode(out[0]) if out.min() >= 0 and out.max() < V else out.tolist()
    expect(torch.equal(out, DATA),
           say(en=f"after memorizing {TEXT!r}, greedy generate from the prompt {TEXT[:PROMPT]!r} returned {shown!r}. "
                  "Each step must take the argmax of the LAST position's logits (logits[:, -1, :]) and append it.",
               zh=f"记住 {TEXT!r} 之后，从提示 {TEXT[:PROMPT]!r} 开始的贪心 generate 返回了 {shown!r}。"
                  "每一步都必须对最后一个位置的 logits（logits[:, -1, :]）取 argmax 并追加。"))


def test_generate_returns_the_prompt_followed_by_new_tokens(impl):
    torch.manual_seed(0)
    model = scramble(impl.TinyGPT(vocab_size=7, d_model=16, n_heads=2, n_layers=1, max_len=12), seed=2)
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    before = prompt.clone()
    out = model.generate(prompt, 5, top_k=1)
    expect_tensor(out, "generate(prompt (2, 3), max_new_tokens=5, top_k=1)", shape=(2, 8), dtype=torch.int64)
    expect(torch.equal(prompt, before), say(en="generate modified the prompt tensor in place; build a new tensor with "
                                               "torch.cat.",
                                            zh="generate 原地修改了 prompt 张量；要用 torch.cat 构造新张量。"))
    expect(torch.equal(out[:, :3], prompt),
           say(en=f"generate must return the prompt followed by the new tokens; the first 3 columns are "
                  f"{out[:, :3].tolist()}, expected {prompt.tolist()}.",
               zh=f"generate 必须返回提示加上新生成的 token；前 3 列是 {out[:, :3].tolist()}，应为 {prompt.tolist()}。"))
    expect(bool(((out >= 0) & (out < 7)).all()), say(en=f"generate returned token ids outside [0, 7): {out.tolist()}",
                                                     zh=f"generate 返回了 [0, 7) 之外的 token id：{out.tolist()}"))
    want = greedy_oracle(model, prompt, 5, 12)
    expect(torch.equal(out, want),
           say(en=f"generate(..., top_k=1) returned {out.tolist()}, but greedy decoding (argmax of the last position's "
                  f"logits, one token at a time) gives {want.tolist()}.",
               zh=f"generate(..., top_k=1) 返回了 {out.tolist()}，而贪心解码（每次对最后一个位置的 logits 取 argmax，"
                  f"一次一个 token）得到的是 {want.tolist()}。"))


def test_generate_feeds_at_most_the_last_max_len_tokens(impl):
    torch.manual_seed(0)
    max_len = 6
    model = scramble(impl.TinyGPT(vocab_size=7, d_model=16, n_heads=2, n_layers=2, max_len=max_len), seed=3)
    prompt = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 0, 1], [6, 5, 4, 3, 2, 1, 0, 6, 5]])  # 9 tokens > max_len
    want = greedy_oracle(model, prompt, 6, max_len)
    lengths = record_forward_lengths(model)
    try:
        out = model.generate(prompt, 6, top_k=1)
    except Exception as exc:
        raise CheckFailed(say(en=f"generate with a 9-token prompt and max_len={max_len} raised {type(exc).__name__}: "
                                 f"{exc} — crop the context to the last max_len tokens (idx[:, -max_len:]) before each "
                                 "forward pass.",
                              zh=f"提示有 9 个 token、max_len={max_len} 时 generate 抛出了 {type(exc).__name__}: {exc}"
                                 "——每次前向之前要把上下文裁剪为最后 max_len 个 token（idx[:, -max_len:]）。").render()) from exc
    expect(not lengths or max(lengths) <= max_len,
           say(en=f"generate fed the model sequences of lengths {sorted(set(lengths))}, but max_len is {max_len}: crop "
                  "the context to idx[:, -max_len:] before each forward pass.",
               zh=f"generate 给模型输入的序列长度是 {sorted(set(lengths))}，而 max_len 是 {max_len}："
                  "每次前向之前要把上下文裁剪为 idx[:, -max_len:]。"))
    expect_tensor(out, "generate(prompt (2, 9), max_new_tokens=6, top_k=1)", shape=(2, 15), dtype=torch.int64)
    expect(torch.equal(out, want),
           say(en=f"generate(prompt of 9 tokens, 6 new, top_k=1) with max_len={max_len} returned {out[:, 9:].tolist()} "
                  f"as new tokens; greedy decoding on the last {max_len} tokens gives {want[:, 9:].tolist()}.",
               zh=f"max_len={max_len} 时 generate(9 个 token 的提示, 新生成 6 个, top_k=1) 新生成的 token 是 "
                  f"{out[:, 9:].tolist()}；在最后 {max_len} 个 token 上做贪心解码得到的是 {want[:, 9:].tolist()}。"))


def test_sampling_keeps_top_k_and_follows_the_generator(impl):
    torch.manual_seed(0)
    model = scramble(impl.TinyGPT(vocab_size=7, d_model=16, n_heads=2, n_layers=1, max_len=8), seed=4)
    prompt = torch.tensor([[3], [1], [5]])
    out = model.generate(prompt, 10, temperature=0.8, top_k=2, generator=torch.Generator().manual_seed(5))
    expect_tensor(out, "generate(prompt (3, 1), 10, temperature=0.8, top_k=2, generator=g)", shape=(3, 11),
                  dtype=torch.int64)
    with torch.no_grad():
        for t in range(1, 11):
            logits = model(out[:, max(0, t - 8):t])[:, -1, :]
            top2 = logits.topk(2, dim=-1).indices
            ok = (top2 == out[:, t:t + 1]).any(-1)
            expect(bool(ok.all()),
                   say(en=f"with top_k=2, token {t} of the sequences {out.tolist()} is not among the 2 most likely next "
                          f"tokens {top2.tolist()}: keep the top_k logits of the last position and set the rest to -inf "
                          "before sampling.",
                       zh=f"top_k=2 时，序列 {out.tolist()} 的第 {t} 个 token 不在最可能的 2 个下一 token {top2.tolist()} "
                          "之中：采样前只保留最后一个位置的 top_k 个 logits，其余设为 -inf。"))
    again = model.generate(prompt, 10, temperature=0.8, top_k=2, generator=torch.Generator().manual_seed(5))
    expect(torch.equal(out, again), say(en="two calls with generators seeded alike gave different samples; pass "
                                           "`generator` to torch.multinomial.",
                                        zh="用相同种子的生成器调用两次，得到了不同的采样结果；要把 `generator` 传给 "
                                           "torch.multinomial。"))
