r"""Decoding: turning a language model's next-token distribution into text.

Sampling reshapes the distribution before drawing from it. Temperature
$\tau$ rescales the logits, $p_i \propto e^{\ell_i/\tau}$ (τ < 1 sharpens,
τ > 1 flattens); top-k keeps the k most probable tokens; nucleus (top-p)
sampling keeps the smallest set $S$ of most probable tokens with

$$\sum_{i\in S} p_i \ge p,$$

so the number of candidates adapts to how peaked the distribution is
(Holtzman et al., *The Curious Case of Neural Text Degeneration*,
arXiv:1904.09751). The kept tokens are renormalized by the softmax.

Beam search instead searches for a high-probability sequence,
$\arg\max_y \sum_t \log p(y_t \mid y_{<t})$, keeping the `beam_size` best
partial sequences at each step; beam size 1 is greedy decoding, and an
unbounded beam is exhaustive search (Sutskever et al., *Sequence to Sequence
Learning with Neural Networks*, arXiv:1409.3215, decode with a beam).

Shapes: B batch, V vocabulary size.
"""
from __future__ import annotations

import torch


def filter_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Temperature, then top-k, then top-p filtering of next-token logits (B, V).

    In this order: divide by `temperature`; keep the `top_k` largest logits of
    each row; then, under the softmax of what is left, keep the smallest set
    of most probable tokens whose probabilities sum to >= `top_p` (the most
    probable token always stays, and so does the token whose probability
    makes the running sum cross `top_p`). Removed entries become -inf; kept
    entries are logits / temperature. None disables a filter. Returns (B, V)
    in the input's dtype.
    """
    assert temperature > 0, "temperature must be positive"
    logits = logits / temperature
    V = logits.size(-1)
    if top_k is not None and top_k < V:
        assert top_k >= 1, "top_k must be at least 1"
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]  # (B, 1): the k-th largest logit per row
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = logits.sort(dim=-1, descending=True)  # (B, V)
        probs = sorted_logits.softmax(dim=-1)  # renormalized over what top-k left
        before = probs.cumsum(dim=-1) - probs  # probability mass strictly before each token
        remove_sorted = before >= top_p  # the crossing token has before < top_p, so it stays
        remove_sorted[..., 0] = False  # the most probable token always stays (even for top_p <= 0)
        remove = remove_sorted.scatter(-1, order, remove_sorted)  # back to vocabulary order
        logits = logits.masked_fill(remove, float("-inf"))
    return logits


def sample_next_token(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                      top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one token per row from softmax(filter_logits(logits, ...)); returns (B,) int64.

    `generator` (a torch.Generator) makes the draw reproducible.
    """
    probs = filter_logits(logits, temperature, top_k, top_p).softmax(dim=-1)  # (B, V), 0 where filtered
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)  # (B,)


def beam_search(log_prob_fn, bos: int, eos: int, beam_size: int, max_len: int) -> tuple[list[int], float]:
    """Beam search over a model given as `log_prob_fn(prefix: list[int]) -> (V,) log-probabilities`.

    Sequences start with [bos] and are finished when they end with `eos`
    (included) or reach `max_len` tokens (bos counted). A sequence's score is
    the sum of the log-probabilities of its generated tokens (no length
    normalization). At each step every unfinished beam is extended by every
    token; the `beam_size` best of these extensions and of the finished beams
    (which stay candidates) form the next beam. Stops when every beam is
    finished; returns the best (tokens, score) as (list of ints, float).
    """
    assert beam_size >= 1 and max_len >= 2

    def finished(seq: list[int]) -> bool:
        return seq[-1] == eos or len(seq) >= max_len

    beams: list[tuple[float, list[int]]] = [(0.0, [bos])]  # (score, tokens)
    while not all(finished(seq) for _, seq in beams):
        candidates = []
        for score, seq in beams:
            if finished(seq):
                candidates.append((score, seq))  # a finished beam competes unchanged
                continue
            log_probs = log_prob_fn(seq).tolist()  # (V,)
            candidates += [(score + lp, seq + [tok]) for tok, lp in enumerate(log_probs)]
        candidates.sort(key=lambda c: c[0], reverse=True)  # stable: ties keep expansion order
        beams = candidates[:beam_size]
    score, seq = beams[0]
    return seq, float(score)
