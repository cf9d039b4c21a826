"""Known-wrong: applies the min-p rule to the raw logits (logit < min_p × max logit) instead of the probabilities."""
import torch


def repetition_penalty(logits, prev_tokens, penalty):
    seen = torch.zeros(logits.shape, dtype=torch.bool).scatter(1, prev_tokens, True)
    return torch.where(seen, torch.where(logits > 0, logits / penalty, logits * penalty), logits)


def min_p_filter(logits, min_p):
    return logits.masked_fill(logits < min_p * logits.max(-1, keepdim=True).values, float("-inf"))
