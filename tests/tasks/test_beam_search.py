"""beam-search: beam size 1 is greedy, an unbounded beam is exhaustive search, and a stated example where beam
search beats greedy decoding. Greedy decoding and exhaustive search are written here, independently."""
import math

import torch

from genprep.learner.checks import expect, say

HINT = say(en="Keep (score, tokens) pairs; each step extend every UNFINISHED beam by every token, keep finished beams "
              "as they are, and keep the beam_size best of all of these; stop when every kept beam ends with eos or "
              "has max_len tokens; the score is the plain sum of the generated tokens' log-probs.",
           zh="保存 (score, tokens) 对；每一步把每个未结束的束用每个词元各扩展一次，已结束的束原样保留，再从这些候选中"
              "留下最好的 beam_size 个；当留下的束都以 eos 结尾或长度达到 max_len 时停止；得分就是生成词元对数概率的直接求和。")
NO_BRANCH = say(en="Your beams never branch: extend every beam by EVERY token (not only its own best one), then keep "
                   "the beam_size best of all candidates.",
                zh="你的束从不分叉：要把每个束用所有词元都扩展一次（而不只是它自己最好的那个），再从全部候选中留下最好的 "
                   "beam_size 个。")
LENGTH_NORM = say(en="Your answer is the sequence with the best AVERAGE log-prob per token: rank by the plain sum "
                     "(no length normalization).",
                  zh="你返回的是每个词元平均对数概率最高的序列：应按对数概率的直接求和排序（不做长度归一化）。")
FIRST_DONE = say(en="You stopped at the first beam that finished: a beam still running can end with a higher score; "
                    "keep finished beams as candidates and go on until every kept beam is finished.",
                 zh="你在第一个束结束时就停下了：还在扩展的束最后可能得分更高；应把已结束的束留作候选，继续扩展，"
                    "直到留下的束全部结束。")
DROPPED = say(en="Beams that emit eos must stay candidates (with their score), not be dropped: the best sequence ends "
                 "with eos, yours runs to max_len.",
              zh="输出 eos 的束应保留为候选（连同其得分），不能丢掉：最好的序列以 eos 结尾，而你的序列一直跑到了 max_len。")


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


def finished_sequences(log_prob_fn, bos, eos, max_len):
    """Every finished sequence with its score."""
    out, stack = [], [([bos], 0.0)]
    while stack:
        seq, score = stack.pop()
        if seq[-1] == eos or len(seq) == max_len:
            out.append((seq, score))
            continue
        stack += [(seq + [tok], score + s) for tok, s in enumerate(log_prob_fn(seq).tolist())]
    return out


def cause_of(log_prob_fn, bos, eos, max_len, tokens, want_tokens):
    """The usual mistake that explains returning `tokens` where the best sequence is `want_tokens`."""
    if tokens == greedy(log_prob_fn, bos, eos, max_len)[0]:
        return NO_BRANCH
    finished = finished_sequences(log_prob_fn, bos, eos, max_len)
    if tokens == max(finished, key=lambda f: f[1] / (len(f[0]) - 1))[0]:
        return LENGTH_NORM
    if tokens[-1] != eos and want_tokens[-1] == eos:
        return DROPPED
    if tokens[-1] == eos and len(tokens) < len(want_tokens):
        return FIRST_DONE
    return HINT


def call(impl, log_prob_fn, bos, eos, beam_size, max_len):
    what = f"beam_search(log_prob_fn, bos={bos}, eos={eos}, beam_size={beam_size}, max_len={max_len})"
    result = impl.beam_search(log_prob_fn, bos, eos, beam_size, max_len)
    expect(isinstance(result, tuple) and len(result) == 2,
           say(en=f"{what} should return (tokens, score), got {result!r:.200}",
               zh=f"{what} 应返回 (tokens, score)，实际返回的是 {result!r:.200}"))
    tokens, score = result
    expect(isinstance(tokens, list) and all(isinstance(t, int) for t in tokens),
           say(en=f"{what} should return the tokens as a list of Python ints, got {tokens!r:.200}",
               zh=f"{what} 应以 Python int 列表返回词元，实际返回的是 {tokens!r:.200}"))
    expect(isinstance(score, float), say(en=f"{what} should return the score as a float, got {type(score).__name__}",
                                         zh=f"{what} 应以 float 返回得分，实际返回的是 {type(score).__name__}"))
    expect(len(tokens) >= 2 and tokens[0] == bos,
           say(en=f"{what} returned {tokens}; a sequence starts with bos={bos} and has at least one generated token.",
               zh=f"{what} 返回了 {tokens}；序列应以 bos={bos} 开头，并且至少有一个生成的词元。"))
    expect(len(tokens) <= max_len,
           say(en=f"{what} returned {len(tokens)} tokens {tokens}; at most max_len={max_len} (bos counted).",
               zh=f"{what} 返回了 {len(tokens)} 个词元 {tokens}；最多 max_len={max_len} 个（bos 也算在内）。"))
    expect(eos not in tokens[1:-1],
           say(en=f"{what} returned {tokens}: tokens after eos; a beam that emits eos is finished.",
               zh=f"{what} 返回了 {tokens}：eos 之后还有词元；输出 eos 的束就已经结束了。"))
    expect(tokens[-1] == eos or len(tokens) == max_len,
           say(en=f"{what} returned {tokens}, which is not finished: it must end with eos={eos} or have "
                  f"max_len={max_len} tokens.",
               zh=f"{what} 返回的 {tokens} 还没有结束：它应以 eos={eos} 结尾，或者长度达到 max_len={max_len}。"))
    return tokens, score, what


def test_beam_size_1_is_greedy(impl):
    for seed in range(10):
        V, bos, eos, max_len = 5, 0, 1, 7
        fn, _ = markov_model(V, seed)
        want_tokens, want_score = greedy(fn, bos, eos, max_len)
        tokens, score, what = call(impl, fn, bos, eos, 1, max_len)
        expect(tokens == want_tokens,
               say(en=f"{what} returned {tokens}; greedy decoding (argmax at every step) gives {want_tokens}. With "
                      "beam_size=1 beam search is greedy: keep the single best extension at every step, and stop the "
                      "beam when it emits eos.",
                   zh=f"{what} 返回了 {tokens}；贪心解码（每一步取 argmax）得到的是 {want_tokens}。beam_size=1 时束搜索"
                      "就是贪心解码：每一步只留下最好的那一个扩展，输出 eos 时该束结束。"))
        expect(abs(score - want_score) < 1e-5,
               say(en=f"{what} returned score {score:.6f}, expected {want_score:.6f}: the score is the plain sum of the "
                      "log-probs of the generated tokens (bos not scored, no length normalization).",
                   zh=f"{what} 返回的得分是 {score:.6f}，应为 {want_score:.6f}：得分是生成词元对数概率的直接求和"
                      "（bos 不计分，不做长度归一化）。"))


def test_unbounded_beam_is_exhaustive_search(impl):
    for seed in range(12):
        V, bos, eos, max_len = 4, 0, 1, 5
        fn, _ = markov_model(V, 100 + seed, sharpness=1.0 if seed % 2 else 2.5)
        want_tokens, want_score = exhaustive(fn, bos, eos, max_len)
        width = V ** (max_len - 1)  # more than the number of finished sequences
        tokens, score, what = call(impl, fn, bos, eos, width, max_len)
        cause = cause_of(fn, bos, eos, max_len, tokens, want_tokens)
        expect(abs(score - want_score) < 1e-5 and tokens == want_tokens,
               say(en=f"{what} (model seed {100 + seed}) returned {tokens} with score {score:.6f}; exhaustive search "
                      f"over all finished sequences finds {want_tokens} with score {want_score:.6f}. A beam this wide "
                      f"prunes nothing, so it must find the best sequence. {cause.en}",
                   zh=f"{what}（模型种子 {100 + seed}）返回了 {tokens}，得分 {score:.6f}；在所有已结束的序列上穷举搜索，"
                      f"最好的是 {want_tokens}，得分 {want_score:.6f}。这么宽的束不会剪掉任何候选，所以必须找到最好的序列。"
                      f"{cause.zh}"))


def test_score_is_the_sum_of_log_probs_of_the_returned_tokens(impl):
    for beam_size in (1, 2, 3, 6):
        fn, _ = markov_model(6, seed=7)
        tokens, score, what = call(impl, fn, 0, 1, beam_size, 6)
        want = seq_score(fn, tokens)
        expect(abs(score - want) < 1e-5,
               say(en=f"{what} returned {tokens} with score {score:.6f}, but the sum of the log-probs of its generated "
                      f"tokens is {want:.6f}: return the plain sum (no length normalization, bos not scored).",
                   zh=f"{what} 返回了 {tokens}，得分 {score:.6f}，但它生成词元的对数概率之和是 {want:.6f}："
                      "应返回直接求和的结果（不做长度归一化，bos 不计分）。"))


def test_finished_beams_are_not_extended(impl):
    fn, calls = markov_model(5, seed=11)
    call(impl, fn, 2, 3, 3, 6)
    bad = [p for p in calls if not p or p[0] != 2 or 3 in p or len(p) >= 6]
    expect(not bad,
           say(en=f"log_prob_fn was asked about the prefix {bad[0] if bad else None}; only unfinished prefixes "
                  "(starting with bos=2, no eos=3, fewer than max_len=6 tokens) should be extended — a finished beam "
                  "is carried over as it is.",
               zh=f"log_prob_fn 被问到了前缀 {bad[0] if bad else None}；只应扩展未结束的前缀"
                  "（以 bos=2 开头、不含 eos=3、少于 max_len=6 个词元）——已结束的束原样保留。"))


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
           say(en=f"{what} returned {tokens} (score {score:.4f}); greedy must give [0, 2, 1] with log 0.24 = "
                  f"{math.log(0.24):.4f}.",
               zh=f"{what} 返回了 {tokens}（得分 {score:.4f}）；贪心解码必须得到 [0, 2, 1]，得分 log 0.24 = "
                  f"{math.log(0.24):.4f}。"))
    tokens, score, what = call(impl, fn, 0, 1, 2, 3)
    # [0, 2, 1] comes from beams that never branch (b is never tried) or from dropping the finished [0, 3, 1]
    cause = say(en="After the first step the beam must hold both a and b; b's continuation eos finishes at once and "
                   "must stay a candidate. Either your beams never branch (extend every beam by EVERY token) or you drop "
                   "finished beams (keep them, with their score).",
                zh="第一步之后束里必须同时有 a 和 b；b 接着输出 eos 就立即结束，这个结束的序列必须留作候选。"
                   "要么你的束从不分叉（每个束都要用所有词元扩展），要么你丢掉了已结束的束（应连同得分保留）。") \
        if tokens == [0, 2, 1] else HINT
    expect(tokens == [0, 3, 1] and abs(score - math.log(0.36)) < 1e-6,
           say(en=f"{what} returned {tokens} (score {score:.4f}); with two beams, [0, 3, 1] (probability 0.4 · 0.9 = "
                  f"0.36) beats greedy's [0, 2, 1] (0.6 · 0.4 = 0.24); expected score log 0.36 = {math.log(0.36):.4f}. "
                  f"{cause.en}",
               zh=f"{what} 返回了 {tokens}（得分 {score:.4f}）；用两个束时，[0, 3, 1]（概率 0.4 · 0.9 = 0.36）胜过贪心的 "
                  f"[0, 2, 1]（0.6 · 0.4 = 0.24）；应得分 log 0.36 = {math.log(0.36):.4f}。{cause.zh}"))
