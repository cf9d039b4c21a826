"""Known-wrong: writes the penalized values into the caller's logits tensor (in place) and returns it."""
import torch


def repetition_penalty(logits, prev_tokens, penalty):
    picked = logits.gather(1, prev_tokens)
    logits.scatter_(1, prev_tokens, torch.where(picked > 0, picked / penalty, picked * penalty))
    return logits


def min_p_filter(logits, min_p):
    probs = logits.softmax(-1)
    return logits.masked_fill(probs < min_p * probs.max(-1, keepdim=True).values, float("-inf"))

