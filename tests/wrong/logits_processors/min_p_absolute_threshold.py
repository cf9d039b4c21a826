"""Known-wrong: removes tokens with probability below min_p itself, not below min_p × the top probability."""
import torch


def repetition_penalty(logits, prev_tokens, penalty):
    seen = torch.zeros(logits.shape, dtype=torch.bool).scatter(1, prev_tokens, True)
    return torch.where(seen, torch.where(logits > 0, logits / penalty, logits * penalty), logits)


def min_p_filter(logits, min_p):
    probs = logits.softmax(-1)
    return logits.masked_fill(probs < min_p, float("-inf"))
