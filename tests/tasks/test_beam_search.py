"""beam-search: beam size 1 is greedy, an unbounded beam is exhaustive search, and a stated example where beam
search beats greedy decoding. Greedy decoding and exhaustive search are written here, independently."""
import math

import torch

from genprep.learner.checks import expect

HINT = ("Keep (score, tokens) pairs; each step extend every UNFINISHED beam by every token, keep finished beams as "
        "they are, and keep the beam_size best of all of these; stop when every kept beam ends with eos or has "
        "max_len tokens; the score is the plain sum of the generated tokens' log-probs.")


def markov_model(V, seed, sharpness=1.5):
    """A toy model whose next-token log-probs depend on the last token and, a little, on the length."""
    g = torch.Generator().manual_seed(seed)
    table = (sharpness * torch.randn(V, V, generator=g, dtype=torch.float64)).log_softmax(-1)
    bump = 0.5 * torch.randn(8, V, generator=g, dtype=torch.float64)
    calls = []

    def log_prob_fn(prefix):
        calls.append(list(prefix))
        return (table[prefix[-1]] + bump[len(prefix) % 8]).log_softmax(-1)

    return log_prob_fn, calls


def seq_score(log_prob_fn, tokens):
    return sum(float(log_prob_fn(tokens[:t])[tokens[t]]) for t in range(1, len(tokens)))


def greedy(log_prob_fn, bos, eos, max_len):
    seq, score = [bos], 0.0
    while seq[-1] != eos and len(seq) < max_len:
        lp = log_prob_fn(seq)
        tok = int(lp.argmax())
        seq, score = seq + [tok], score + float(lp[tok])
    return seq, score


def exhaustive(log_prob_fn, bos, eos, max_len):
    """Every finished sequence (ends with eos, or has max_len tokens) and its score; returns the best."""
    best = (None, -math.inf)
    stack = [([bos], 0.0)]
    while stack:
        seq, score = stack.pop()
        if seq[-1] == eos or len(seq) == max_len:
            if score > best[1]:
                best = (seq, score)
            continue
        lp = log_prob_fn(seq).tolist()
        stack += [(seq + [tok], score + s) for tok, s in enumerate(lp)]
    return best


def call(impl, log_prob_fn, bos, eos, beam_size, max_len):
    what = f"beam_search(log_prob_fn, bos={bos}, eos={eos}, beam_size={beam_size}, max_len={max_len})"
    result = impl.beam_search(log_prob_fn, bos, eos, beam_size, max_len)
    expect(isinstance(result, tuple) and len(result) == 2, f"{what} should return (tokens, score), got {result!r:.200}")
    tokens, score = result
    expect(isinstance(tokens, list) and all(isinstance(t, int) for t in tokens),
           f"{what} should return the tokens as a list of Python ints, got {tokens!r:.200}")
    expect(isinstance(score, float), f"{what} should return the score as a float, got {type(score).__name__}")
    expect(len(tokens) >= 2 and tokens[0] == bos, f"{what} returned {tokens}; a sequence starts with bos={bos} and "
           "has at least one generated token.")
    expect(len(tokens) <= max_len, f"{what} returned {len(tokens)} tokens {tokens}; at most max_len={max_len} (bos counted).")
    expect(eos not in tokens[1:-1], f"{what} returned {tokens}: tokens after eos; a beam that emits eos is finished.")
    expect(tokens[-1] == eos or len(tokens) == max_len,
           f"{what} returned {tokens}, which is not finished: it must end with eos={eos} or have max_len={max_len} tokens.")
    return tokens, score, what


def test_beam_size_1_is_greedy(impl):
    for seed in range(10):
        V, bos, eos, max_len = 5, 0, 1, 7
        fn, _ = markov_model(V, seed)
        want_tokens, want_score = greedy(fn, bos, eos, max_len)
        tokens, score, what = call(impl, fn, bos, eos, 1, max_len)
        expect(tokens == want_tokens, f"{what} returned {tokens}; greedy decoding (argmax at every step) gives "
               f"{want_tokens}. With beam_size=1 beam search is greedy. {HINT}")
        expect(abs(score - want_score) < 1e-5, f"{what} returned score {score:.6f}, expected {want_score:.6f}. {HINT}")


def test_unbounded_beam_is_exhaustive_search(impl):
    for seed in range(12):
        V, bos, eos, max_len = 4, 0, 1, 5
        fn, _ = markov_model(V, 100 + seed, sharpness=1.0 if seed % 2 else 2.5)
        want_tokens, want_score = exhaustive(fn, bos, eos, max_len)
        width = V ** (max_len - 1)  # more than the number of finished sequences
        tokens, score, what = call(impl, fn, bos, eos, width, max_len)
        expect(abs(score - want_score) < 1e-5 and tokens == want_tokens,
               f"{what} (model seed {100 + seed}) returned {tokens} with score {score:.6f}; exhaustive search over "
               f"all finished sequences finds {want_tokens} with score {want_score:.6f}. A beam this wide prunes "
               f"nothing, so it must find the best sequence. {HINT}")


def test_score_is_the_sum_of_log_probs_of_the_returned_tokens(impl):
    for beam_size in (1, 2, 3, 6):
        fn, _ = markov_model(6, seed=7)
        tokens, score, what = call(impl, fn, 0, 1, beam_size, 6)
        want = seq_score(fn, tokens)
        expect(abs(score - want) < 1e-5, f"{what} returned {tokens} with score {score:.6f}, but the sum of the "
               f"log-probs of its generated tokens is {want:.6f} (no length normalization). {HINT}")


def test_finished_beams_are_not_extended(impl):
    fn, calls = markov_model(5, seed=11)
    call(impl, fn, 2, 3, 3, 6)
    bad = [p for p in calls if not p or p[0] != 2 or 3 in p or len(p) >= 6]
    expect(not bad, f"log_prob_fn was asked about the prefix {bad[0] if bad else None}; only unfinished prefixes "
           "(starting with bos=2, no eos=3, fewer than max_len=6 tokens) should be extended.")


def test_beam_beats_greedy_on_a_stated_example(impl):
    # Tokens: 0 = bos, 1 = eos, 2 = "a", 3 = "b"; max_len = 3.
    # After bos: a 0.6, b 0.4.  After a: eos 0.4, a 0.3, b 0.3.  After b: eos 0.9, a 0.05, b 0.05.
    # Greedy takes a (0.6), then eos (0.4): probability 0.24.  The best sequence is bos b eos: 0.4 · 0.9 = 0.36.
    # A beam of 2 keeps b after the first step and finds it.
    next_probs = {0: [0.0, 0.0, 0.6, 0.4], 2: [0.0, 0.4, 0.3, 0.3], 3: [0.0, 0.9, 0.05, 0.05]}

    def fn(prefix):
        return torch.tensor(next_probs[prefix[-1]], dtype=torch.float64).log()

    tokens, score, what = call(impl, fn, 0, 1, 1, 3)
    expect(tokens == [0, 2, 1] and abs(score - math.log(0.24)) < 1e-6,
           f"{what} returned {tokens} (score {score:.4f}); greedy must give [0, 2, 1] with log 0.24 = {math.log(0.24):.4f}.")
    tokens, score, what = call(impl, fn, 0, 1, 2, 3)
    expect(tokens == [0, 3, 1] and abs(score - math.log(0.36)) < 1e-6,
           f"{what} returned {tokens} (score {score:.4f}); with two beams, [0, 3, 1] (probability 0.4 · 0.9 = 0.36) "
           f"beats greedy's [0, 2, 1] (0.6 · 0.4 = 0.24); expected score log 0.36 = {math.log(0.36):.4f}. {HINT}")
