"""Known-wrong: sets the uncounted targets to -100 on input_ids[:, 1:], a view, so the caller's input_ids are overwritten; the loss value is right but the batch is corrupted for anything that reads it afterwards."""
import torch.nn.functional as F


def sft_loss(logits, input_ids, loss_mask):
    target = input_ids[:, 1:]
    target[~loss_mask[:, 1:].bool()] = -100
    V = logits.size(-1)
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), target.reshape(-1), ignore_index=-100)
