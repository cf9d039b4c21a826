"""Known-wrong: collects the previous tokens of the whole batch and penalizes them in every row."""
import torch


def repetition_penalty(logits, prev_tokens, penalty):
    seen = torch.zeros(logits.size(-1), dtype=torch.bool)
    seen[prev_tokens.reshape(-1)] = True
    return torch.where(seen, torch.where(logits > 0, logits / penalty, logits * penalty), logits)


def min_p_filter(logits, min_p):
    probs = logits.softmax(-1)
    return logits.masked_fill(probs < min_p * probs.max(-1, keepdim=True).values, float("-inf"))

