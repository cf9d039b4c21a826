"""Known-wrong: zeroes the NLL at padded positions but still divides by the total number of positions."""
import torch


def perplexity(logits, targets, ignore_index=-100):
    V = logits.size(-1)
    logits, targets = logits.reshape(-1, V), targets.reshape(-1)
    keep = targets != ignore_index
    log_probs = torch.log_softmax(logits, dim=-1)
    nll = -log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (nll * keep).sum().div(targets.numel()).exp()  # should divide by keep.sum()
