r"""Inference-time tricks for language models: logits processors and speculative decoding.

**Logits processors** rewrite the next-token logits $\ell \in \mathbb R^{V}$
before sampling. The repetition penalty of CTRL makes every token already
present in the context less likely, once per distinct token. CTRL divides
the logit by $\theta$; Hugging Face Transformers adds a sign rule so that
it always *lowers* the logit for a penalty $\theta > 1$:

$$\ell_i' = \begin{cases} \ell_i / \theta & \ell_i > 0 \\ \ell_i \cdot \theta & \ell_i \le 0 \end{cases}
\quad\text{for every token } i \text{ in the context.}$$

Min-p sampling keeps the tokens whose probability is at least a fraction
$p_{\min}$ of the most probable token's, $p_i \ge p_{\min} \cdot \max_j p_j$,
so the candidate set shrinks when the model is confident and widens when it
is not. Keskar et al., *CTRL: A Conditional Transformer Language Model for
Controllable Generation*, arXiv:1909.05858; Nguyen et al., *Turning Up the
Heat: Min-p Sampling for Creative and Coherent LLM Outputs*, arXiv:2407.01082.

**Speculative decoding** lets a cheap draft model $q$ propose $k$ tokens and
the target model $p$ check all of them in one forward pass. Draft token
$x_i$ is accepted with probability $\min(1, p_i(x_i)/q_i(x_i))$; at the first
rejection the replacement is drawn from the residual
$\mathrm{norm}(\max(0, p_i - q_i))$, and if all $k$ are accepted one more
token comes from $p_{k+1}$. Every emitted token is then distributed exactly
as under the target, since for each $x$

$$q(x)\min\Big(1,\tfrac{p(x)}{q(x)}\Big) + \Big(1-\sum_y \min(p(y), q(y))\Big)
\frac{\max(0, p(x)-q(x))}{\sum_y \max(0, p(y)-q(y))} = p(x).$$

Leviathan et al., *Fast Inference from Transformers via Speculative
Decoding*, arXiv:2211.17192; Chen et al., *Accelerating Large Language Model
Decoding with Speculative Sampling*, arXiv:2302.01318.

Shapes: B batch, T context length, V vocabulary size, k draft length.
"""
from __future__ import annotations

import torch


def repetition_penalty(logits: torch.Tensor, prev_tokens: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL's repetition penalty, as Hugging Face applies it; returns new (B, V) logits.

    logits: (B, V) float; prev_tokens: (B, T) int64, the token ids already in
    each row's context. Every token id that occurs in row b of prev_tokens has
    its logit in row b divided by `penalty` if the logit is positive and
    multiplied by `penalty` otherwise (so penalty > 1 always lowers it). A
    token is penalized once, however often it occurs. Other entries are
    unchanged. Returns logits' shape and dtype; the inputs are not modified.
    """
    seen = torch.zeros(logits.shape, dtype=torch.bool, device=logits.device)  # (B, V)
    seen = seen.scatter(1, prev_tokens, True)  # True where the token occurs in the row's context (once or more)
    penalized = torch.where(logits > 0, logits / penalty, logits * penalty)  # ℓ/θ if ℓ > 0 else ℓ·θ
    return torch.where(seen, penalized, logits)


def min_p_filter(logits: torch.Tensor, min_p: float) -> torch.Tensor:
    """Min-p filtering of next-token logits (B, V); returns new (B, V) logits.

    With p = softmax(logits) per row, every token whose probability is below
    `min_p` times the row's largest probability gets -inf; the others keep
    their logits unchanged. min_p = 0 keeps everything and the most probable
    token always survives. Returns logits' shape and dtype; the inputs are
    not modified.
    """
    probs = logits.softmax(dim=-1)  # (B, V)
    threshold = min_p * probs.max(dim=-1, keepdim=True).values  # (B, 1): p_min · max_j p_j
    return logits.masked_fill(probs < threshold, float("-inf"))


def speculative_step(draft_probs: torch.Tensor, target_probs: torch.Tensor, draft_tokens: torch.Tensor,
                     uniforms: torch.Tensor) -> tuple[int, torch.Tensor]:
    """Verify k draft tokens against the target model (speculative sampling); returns (n_accepted, next_probs).

    draft_probs: (k, V), row i the draft model's distribution from which
    draft_tokens[i] was drawn (positive wherever a draft token was drawn);
    target_probs: (k + 1, V), the target model's distributions at the same k
    positions plus the one after them; draft_tokens: (k,) int64;
    uniforms: (k,) in [0, 1), one draw per draft token.

    Token i is accepted iff uniforms[i] < min(1, p_t(x_i) / p_d(x_i)) with
    p_t = target_probs[i], p_d = draft_probs[i]; checking stops at the first
    rejection. n_accepted (a Python int, 0 … k) counts the accepted prefix.
    next_probs (V,) is the distribution of the one extra token to emit:
    normalize(max(0, p_t − p_d)) at the first rejected position, or
    target_probs[k] when all k drafts are accepted.
    """
    k = draft_tokens.shape[0]
    pos = torch.arange(k, device=draft_tokens.device)
    p_t = target_probs[pos, draft_tokens]  # (k,) target probability of each draft token
    p_d = draft_probs[pos, draft_tokens]  # (k,) draft probability of each draft token
    accepted = uniforms < torch.clamp(p_t / p_d, max=1.0)  # (k,) u_i < min(1, p_t / p_d)
    n_accepted = int(accepted.long().cumprod(dim=0).sum())  # length of the accepted prefix
    if n_accepted == k:
        return n_accepted, target_probs[k].clone()  # every draft accepted: the bonus token comes from p_{k+1}
    residual = torch.clamp(target_probs[n_accepted] - draft_probs[n_accepted], min=0.0)  # max(0, p_t − p_d)
    return n_accepted, residual / residual.sum()  # normalized residual distribution
