r"""Post-training: supervised fine-tuning, reward models, KL estimators, PPO, GAE and GRPO.

A chat model is post-trained in stages. **Supervised fine-tuning (SFT)** is
next-token cross-entropy on demonstrations, counted only on the response
tokens. A **reward model** learns a scalar score from preference pairs with
the Bradley–Terry loss $-\log\sigma(r_c - r_r - m)$ (InstructGPT; Llama 2
adds the margin $m$). The policy is then optimized by RL against that reward
while a KL term keeps it near a reference model.

**PPO** maximizes the clipped surrogate, with $\rho_t = \pi_\theta/\pi_{old}$,

$$L^{CLIP} = \mathbb E_t\big[\min(\rho_t A_t,\ \mathrm{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\,A_t)\big],$$

with advantages from **GAE**: $\delta_t = r_t + \gamma V_{t+1} - V_t$,
$A_t = \sum_{l\ge0} (\gamma\lambda)^l \delta_{t+l}$. **GRPO** drops the value
model: it samples a group of $G$ completions per prompt and uses
$A_i = (r_i - \mathrm{mean}(r))/(\mathrm{std}(r) + \epsilon)$ for every token of
completion $i$, with the KL to the reference estimated per token by
$k_3 = e^{\log\pi_{ref} - \log\pi_\theta} - (\log\pi_{ref} - \log\pi_\theta) - 1 \ge 0$,
one of the sample estimators $k_1, k_2, k_3$ of $\mathrm{KL}(q\,\|\,p)$ from
$x \sim q$.

Papers: Ouyang et al., *Training language models to follow instructions with
human feedback* (InstructGPT), arXiv:2203.02155; Touvron et al., *Llama 2: Open
Foundation and Fine-Tuned Chat Models*, arXiv:2307.09288; Schulman et al.,
*Proximal Policy Optimization Algorithms*, arXiv:1707.06347; Schulman et al.,
*High-Dimensional Continuous Control Using Generalized Advantage Estimation*,
arXiv:1506.02438; Shao et al., *DeepSeekMath* (GRPO), arXiv:2402.03300;
J. Schulman, *Approximating KL Divergence* (blog, 2020), https://joschu.net/blog/kl-approx.html.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor, margin=None) -> torch.Tensor:
    """Pairwise reward-model loss: mean over the batch of −log σ(r_chosen − r_rejected − margin).

    r_chosen, r_rejected: (B,) scalar rewards of the preferred and the rejected
    response of each pair. margin: None (no margin, i.e. 0), a Python float, a
    0-dim tensor or a (B,) tensor; a positive margin asks the chosen reward to
    exceed the rejected one by at least that much (Llama 2). Returns a 0-dim
    tensor; must stay finite when the reward difference is ±1e4.
    """
    diff = r_chosen - r_rejected  # (B,) Bradley–Terry: P(chosen ≻ rejected) = σ(r_c − r_r)
    if margin is not None:
        diff = diff - margin  # Llama 2: σ(r_c − r_r − m)
    return -F.logsigmoid(diff).mean()  # logsigmoid, not log(sigmoid): finite for any difference


def sft_loss(logits: torch.Tensor, input_ids: torch.Tensor, loss_mask: torch.Tensor) -> torch.Tensor:
    """Supervised fine-tuning loss: next-token cross-entropy counted on the response tokens only.

    logits: (B, T, V), the model's output for input_ids (B, T) (int64). The
    logits at position t predict input_ids[:, t + 1] (the last position
    predicts nothing). loss_mask: (B, T), bool or 0/1 float, True/1 on the
    tokens of input_ids that count as targets (the response; not the prompt,
    not padding): position t's prediction counts iff loss_mask[:, t + 1];
    loss_mask[:, 0] is ignored (the first token is never a target).
    Returns a 0-dim tensor: ONE mean over all counted target tokens of the
    batch (a token mean, not a mean of per-sequence means).
    """
    pred = logits[:, :-1, :]  # (B, T−1, V): position t predicts token t + 1
    target = input_ids[:, 1:]  # (B, T−1)
    counted = loss_mask[:, 1:].bool()  # (B, T−1): target t + 1 is a response token
    nll = F.cross_entropy(pred.reshape(-1, pred.size(-1)), target.reshape(-1), reduction="none")  # (B·(T−1),)
    counted = counted.reshape(-1)
    return nll[counted].sum() / counted.sum()  # one mean over every counted token of the batch


def kl_estimates(logp: torch.Tensor, logq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-sample estimators k1, k2, k3 of KL(q ‖ p) from samples x ~ q.

    logp = log p(x), logq = log q(x) for the same samples, any shape (the same
    for both). With log r = logp − logq (r = p(x)/q(x)):
        k1 = −log r                 unbiased, high variance, negative for some samples
        k2 = ½ (log r)²             biased, low variance, ≥ 0
        k3 = (r − 1) − log r        unbiased, low variance, ≥ 0 for every sample
    Returns (k1, k2, k3), each the inputs' shape and dtype (per sample, no mean).
    """
    log_r = logp - logq  # log p(x)/q(x)
    k1 = -log_r  # E_q[−log r] = E_q[log q/p] = KL(q ‖ p)
    k2 = 0.5 * log_r ** 2  # ½(log r)²: matches KL to second order when p ≈ q
    k3 = torch.expm1(log_r) - log_r  # (r − 1) − log r ≥ 0 since log r ≤ r − 1; E_q[r − 1] = 0
    return k1, k2, k3


def ppo_policy_loss(logp_new: torch.Tensor, logp_old: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
                    clip_eps: float = 0.2) -> torch.Tensor:
    """PPO's clipped surrogate loss over the valid tokens of a batch; returns a 0-dim tensor.

    All inputs (B, T): log-probs of the sampled tokens under the current policy
    (differentiable) and under the policy that generated them (fixed), the
    per-token advantages, and mask (bool or 0/1 float, True/1 = a real token).
    Per token r = exp(logp_new − logp_old) and the objective is
    min(r·A, clip(r, 1 − ε, 1 + ε)·A); the loss is MINUS the mean of that
    objective over the masked-in tokens: −Σ mask·objective / Σ mask.
    """
    ratio = torch.exp(logp_new - logp_old)  # (B, T) π_θ / π_old per token
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantages
    objective = torch.minimum(unclipped, clipped)  # pessimistic bound: the clip only ever removes incentive
    m = mask.to(objective.dtype)
    return -(objective * m).sum() / m.sum()  # minus the token mean over real tokens


def gae(rewards: torch.Tensor, values: torch.Tensor, gamma: float = 0.99,
        lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation over the last dim; returns (advantages, returns).

    rewards: (..., T), the reward after each step t = 0 … T − 1. values: (..., T + 1),
    V(s_0) … V(s_T), the last being the bootstrap value of the state after the
    final step (0 when the episode ended there). With the TD errors
    δ_t = r_t + γ V_{t+1} − V_t, the advantages are A_t = Σ_{l ≥ 0} (γλ)^l δ_{t+l}
    (summed up to the end, t + l ≤ T − 1) and the returns (the value targets)
    are A + values[..., :T]. Both outputs have rewards' shape and dtype.
    """
    T = rewards.size(-1)
    deltas = rewards + gamma * values[..., 1:] - values[..., :-1]  # (..., T) δ_t = r_t + γV_{t+1} − V_t
    running = torch.zeros_like(rewards[..., 0])  # A_T = 0: nothing after the last step
    advantages = []
    for t in reversed(range(T)):  # backward recursion A_t = δ_t + γλ A_{t+1}
        running = deltas[..., t] + gamma * lam * running
        advantages.append(running)
    adv = torch.stack(advantages[::-1], dim=-1)  # (..., T)
    return adv, adv + values[..., :T]  # returns = A + V: the λ-return, the critic's target


def grpo_advantages(rewards: torch.Tensor, group_size: int, eps: float = 1e-4) -> torch.Tensor:
    """Group-relative advantages: each reward standardized within its own group.

    rewards: (N·G,), N consecutive groups of G = group_size completions of one
    prompt each (completions 0 … G − 1 belong to prompt 0, and so on);
    group_size ≥ 2. A = (r − group mean) / (group std + eps), with the
    UNBIASED std (torch.std's default, divide by G − 1). Returns (N·G,).
    A group whose rewards are all equal gets advantage 0 (no NaN).
    """
    grouped = rewards.reshape(-1, group_size)  # (N, G): row n = the completions of prompt n
    mean = grouped.mean(dim=1, keepdim=True)  # (N, 1)
    std = grouped.std(dim=1, keepdim=True)  # (N, 1) unbiased, divide by G − 1
    return ((grouped - mean) / (std + eps)).reshape(-1)  # eps outside the std: equal rewards → 0/eps = 0


def grpo_loss(logp: torch.Tensor, logp_old: torch.Tensor, logp_ref: torch.Tensor, advantages: torch.Tensor,
              mask: torch.Tensor, clip_eps: float = 0.2, beta: float = 0.04) -> torch.Tensor:
    """GRPO loss (DeepSeekMath): clipped surrogate with the sequence's advantage, minus β·KL, per token.

    logp, logp_old, logp_ref: (N·G, T) log-probs of the sampled tokens under the
    current policy (differentiable), the sampling policy and the frozen
    reference model; advantages: (N·G,), one per sequence (from
    grpo_advantages); mask: (N·G, T), bool or 0/1 float, True/1 = a completion
    token (every sequence has at least one). Per token, with r = exp(logp − logp_old)
    and A its sequence's advantage:
        objective = min(r·A, clip(r, 1 − ε, 1 + ε)·A) − β·KL,
        KL = exp(logp_ref − logp) − (logp_ref − logp) − 1   (the k3 estimator, ≥ 0).
    Average the objective over each sequence's masked tokens, then over the
    sequences; return MINUS that (a 0-dim tensor).
    """
    A = advantages.unsqueeze(-1)  # (N·G, 1): every token of a completion shares its advantage
    ratio = torch.exp(logp - logp_old)  # (N·G, T)
    surrogate = torch.minimum(ratio * A, torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * A)
    log_ref_ratio = logp_ref - logp  # log π_ref/π_θ
    kl = torch.exp(log_ref_ratio) - log_ref_ratio - 1.0  # k3: π_ref/π_θ − log(π_ref/π_θ) − 1 ≥ 0
    per_token = surrogate - beta * kl
    m = mask.to(per_token.dtype)
    per_sequence = (per_token * m).sum(dim=-1) / m.sum(dim=-1)  # (N·G,) 1/|o_i| Σ_t
    return -per_sequence.mean()  # 1/G Σ_i (and over prompts), negated: a loss to minimize
