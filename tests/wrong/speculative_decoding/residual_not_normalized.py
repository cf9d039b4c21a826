"""Known-wrong: returns max(0, p_t − p_d) at the rejected position without dividing by its sum."""
import torch


def speculative_step(draft_probs, target_probs, draft_tokens, uniforms):
    k = draft_tokens.shape[0]
    pos = torch.arange(k)
    p_t = target_probs[pos, draft_tokens]
    p_d = draft_probs[pos, draft_tokens]
    accepted = uniforms < torch.clamp(p_t / p_d, max=1.0)
    n = int(accepted.long().cumprod(0).sum())
    if n == k:
        return n, target_probs[k].clone()
    return n, torch.clamp(target_probs[n] - draft_probs[n], min=0.0)
