"""Known-wrong: averages per-token exp(NLL) (an arithmetic mean of 1/p) instead of exponentiating the mean NLL."""
import torch


def perplexity(logits, targets, ignore_index=-100):
    V = logits.size(-1)
    logits, targets = logits.reshape(-1, V), targets.reshape(-1)
    keep = targets != ignore_index
    log_probs = torch.log_softmax(logits[keep], dim=-1)
    nll = -log_probs.gather(-1, targets[keep].unsqueeze(-1)).squeeze(-1)
    return nll.exp().mean()
