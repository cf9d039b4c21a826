"""Known-wrong: takes log(softmax) computed from exp(logits) without subtracting the max, which overflows to inf/NaN for large logits."""
import torch


def sft_loss(logits, input_ids, loss_mask):
    e = torch.exp(logits[:, :-1])
    p = e / e.sum(-1, keepdim=True)
    nll = -torch.log(p.gather(-1, input_ids[:, 1:, None])[..., 0])
    m = loss_mask[:, 1:].bool()
    return nll[m].mean()
