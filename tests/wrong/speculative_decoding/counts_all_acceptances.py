"""Known-wrong: n_accepted counts every draft token that passes its own test instead of stopping at the first
rejection."""
import torch


def speculative_step(draft_probs, target_probs, draft_tokens, uniforms):
    k = draft_tokens.shape[0]
    pos = torch.arange(k)
    p_t = target_probs[pos, draft_tokens]
    p_d = draft_probs[pos, draft_tokens]
    accepted = uniforms < torch.clamp(p_t / p_d, max=1.0)
    n = int(accepted.sum())
    if n == k:
        return n, target_probs[k].clone()
    first_reject = int(accepted.long().cumprod(0).sum())
    residual = torch.clamp(target_probs[first_reject] - draft_probs[first_reject], min=0.0)
    return n, residual / residual.sum()
