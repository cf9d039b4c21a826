"""Known-wrong: always divides by the penalty, so a negative logit goes UP (−1 / 2 = −0.5) instead of down."""
import torch


def repetition_penalty(logits, prev_tokens, penalty):
    seen = torch.zeros(logits.shape, dtype=torch.bool).scatter(1, prev_tokens, True)
    return torch.where(seen, logits / penalty, logits)


def min_p_filter(logits, min_p):
    probs = logits.softmax(-1)
    return logits.masked_fill(probs < min_p * probs.max(-1, keepdim=True).values, float("-inf"))

