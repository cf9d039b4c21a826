"""Known-wrong: scores the logits at position t against input_ids[:, t] (no shift), so the model is trained to copy its input instead of predicting the next token."""
import torch.nn.functional as F


def sft_loss(logits, input_ids, loss_mask):
    m = loss_mask.bool().reshape(-1)
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), input_ids.reshape(-1), reduction="none")
    return nll[m].mean()
