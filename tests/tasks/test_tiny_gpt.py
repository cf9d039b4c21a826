"""tiny-gpt: a decoder-only Transformer LM — causal, position-aware, and a generate() that crops to max_len."""
import torch
import torch.nn.functional as F

from genprep.learner.checks import CheckFailed, expect, expect_tensor
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
        expect_tensor(model(idx), f"TinyGPT(vocab_size=7, ...)(idx of shape (3, {T}))", shape=(3, T, 7),
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
                   f"changing the tokens after position {t} changed the logits at positions 0..{t} by up to "
                   f"{leak:.3g}: the model looks into the future. Mask the attention with a causal (lower-triangular, "
                   "True = may attend) mask in every layer.")


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
            expect_tensor(logits, f"model(idx of shape {tuple(inputs.shape)})", shape=(1, T - 1, V), dtype=torch.float32)
        loss = F.cross_entropy(logits[0], targets)
        wrong = (logits[0].argmax(-1) != targets).nonzero().flatten().tolist()
        if loss.item() < LOSS_BOUND and not wrong:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    expect(loss.item() < LOSS_BOUND and not wrong,
           f"after {STEPS} Adam steps (lr {LR}) on the {T}-character text {TEXT!r}, the loss is {loss.item():.3f} "
           f"(needs < {LOSS_BOUND}) and the next character is still predicted wrong at positions {wrong}. "
           "The next character depends on the position (inside the first run every prefix is all 'a's), so the "
           "model must add position embeddings (learned or sinusoidal) to the token embeddings.")
    model.eval()
    out = model.generate(DATA[:, :PROMPT], T - PROMPT, top_k=1)
    expect_tensor(out, f"generate(prompt of shape (1, {PROMPT}), max_new_tokens={T - PROMPT}, top_k=1)",
                  shape=(1, T), dtype=torch.int64)
    expect(torch.equal(out, DATA),
           f"after memorizing {TEXT!r}, greedy generate from the prompt {TEXT[:PROMPT]!r} returned "
           f"{decode(out[0]) if out.min() >= 0 and out.max() < V else out.tolist()!r}. Each step must take the argmax "
           "of the LAST position's logits (logits[:, -1, :]) and append it.")


def test_generate_returns_the_prompt_followed_by_new_tokens(impl):
    torch.manual_seed(0)
    model = scramble(impl.TinyGPT(vocab_size=7, d_model=16, n_heads=2, n_layers=1, max_len=12), seed=2)
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    before = prompt.clone()
    out = model.generate(prompt, 5, top_k=1)
    expect_tensor(out, "generate(prompt (2, 3), max_new_tokens=5, top_k=1)", shape=(2, 8), dtype=torch.int64)
    expect(torch.equal(prompt, before), "generate modified the prompt tensor in place; build a new tensor with torch.cat.")
    expect(torch.equal(out[:, :3], prompt), f"generate must return the prompt followed by the new tokens; the first 3 "
                                            f"columns are {out[:, :3].tolist()}, expected {prompt.tolist()}.")
    expect(bool(((out >= 0) & (out < 7)).all()), f"generate returned token ids outside [0, 7): {out.tolist()}")
    expect(torch.equal(out, greedy_oracle(model, prompt, 5, 12)),
           f"generate(..., top_k=1) returned {out.tolist()}, but greedy decoding (argmax of the last position's "
           f"logits, one token at a time) gives {greedy_oracle(model, prompt, 5, 12).tolist()}.")


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
        raise CheckFailed(f"generate with a 9-token prompt and max_len={max_len} raised {type(exc).__name__}: {exc} "
                             f"— crop the context to the last max_len tokens (idx[:, -max_len:]) before each forward "
                             "pass.") from exc
    expect(not lengths or max(lengths) <= max_len,
           f"generate fed the model sequences of lengths {sorted(set(lengths))}, but max_len is {max_len}: crop the "
           "context to idx[:, -max_len:] before each forward pass.")
    expect_tensor(out, "generate(prompt (2, 9), max_new_tokens=6, top_k=1)", shape=(2, 15), dtype=torch.int64)
    expect(torch.equal(out, want),
           f"generate(prompt of 9 tokens, 6 new, top_k=1) with max_len={max_len} returned {out[:, 9:].tolist()} as new "
           f"tokens; greedy decoding on the last {max_len} tokens gives {want[:, 9:].tolist()}.")


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
                   f"with top_k=2, token {t} of the sequences {out.tolist()} is not among the 2 most likely next "
                   f"tokens {top2.tolist()}: keep the top_k logits of the last position and set the rest to -inf "
                   "before sampling.")
    again = model.generate(prompt, 10, temperature=0.8, top_k=2, generator=torch.Generator().manual_seed(5))
    expect(torch.equal(out, again), "two calls with generators seeded alike gave different samples; pass `generator` "
                                    "to torch.multinomial.")
