"""Known-wrong: loops over prev_tokens and applies the penalty once per occurrence, so a token seen 3 times is
divided by penalty³."""
import torch


def repetition_penalty(logits, prev_tokens, penalty):
    out = logits.clone()
    for b in range(prev_tokens.size(0)):
        for tok in prev_tokens[b].tolist():
            v = out[b, tok]
            out[b, tok] = v / penalty if v > 0 else v * penalty
    return out


def min_p_filter(logits, min_p):
    probs = logits.softmax(-1)
    return logits.masked_fill(probs < min_p * probs.max(-1, keepdim=True).values, float("-inf"))

