"""Known-wrong: after a rejection samples the replacement from the target distribution p_t itself instead of the
normalized residual max(0, p_t − p_d), so tokens the draft over-proposes get too much probability."""
import torch


def speculative_step(draft_probs, target_probs, draft_tokens, uniforms):
    k = draft_tokens.shape[0]
    pos = torch.arange(k)
    p_t = target_probs[pos, draft_tokens]
    p_d = draft_probs[pos, draft_tokens]
    accepted = uniforms < torch.clamp(p_t / p_d, max=1.0)
    n = int(accepted.long().cumprod(0).sum())
    return n, target_probs[n].clone()
