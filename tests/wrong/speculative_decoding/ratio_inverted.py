"""Known-wrong: accepts with probability min(1, p_draft / p_target), the ratio upside down."""
import torch


def speculative_step(draft_probs, target_probs, draft_tokens, uniforms):
    k = draft_tokens.shape[0]
    pos = torch.arange(k)
    p_t = target_probs[pos, draft_tokens]
    p_d = draft_probs[pos, draft_tokens]
    accepted = uniforms < torch.clamp(p_d / p_t, max=1.0)
    n = int(accepted.long().cumprod(0).sum())
    if n == k:
        return n, target_probs[k].clone()
    residual = torch.clamp(target_probs[n] - draft_probs[n], min=0.0)
    return n, residual / residual.sum()
