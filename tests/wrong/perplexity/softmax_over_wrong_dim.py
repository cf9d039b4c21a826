"""Known-wrong: normalizes over dim 1 (the time axis of (B, T, V) logits) instead of the vocabulary, the last dim."""
import torch


def perplexity(logits, targets, ignore_index=-100):
    log_probs = torch.log_softmax(logits, dim=1)  # should be dim=-1
    keep = targets != ignore_index
    nll = -log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return nll[keep].mean().exp()
