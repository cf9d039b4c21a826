"""Known-wrong: averages each sequence's response tokens first and then averages the sequences, which over-weights the tokens of short responses."""
import torch
import torch.nn.functional as F


def sft_loss(logits, input_ids, loss_mask):
    pred = logits[:, :-1]
    target = input_ids[:, 1:]
    m = loss_mask[:, 1:].to(logits.dtype)
    nll = F.cross_entropy(pred.transpose(1, 2), target, reduction="none")  # (B, T-1)
    per_seq = (nll * m).sum(-1) / m.sum(-1)
    return per_seq.mean()
