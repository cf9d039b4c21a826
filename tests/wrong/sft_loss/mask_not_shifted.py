"""Known-wrong: shifts logits and targets but takes loss_mask[:, :-1] instead of loss_mask[:, 1:], so every decision is one position early: the first response token is dropped and the token after the response is counted."""
import torch.nn.functional as F


def sft_loss(logits, input_ids, loss_mask):
    pred = logits[:, :-1].reshape(-1, logits.size(-1))
    target = input_ids[:, 1:].reshape(-1)
    m = loss_mask[:, :-1].bool().reshape(-1)
    nll = F.cross_entropy(pred, target, reduction="none")
    return nll[m].mean()
