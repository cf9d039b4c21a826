"""Known-wrong: plain language-model loss over every position, prompt and padding included; SFT must only learn the responses."""
import torch.nn.functional as F


def sft_loss(logits, input_ids, loss_mask):
    pred = logits[:, :-1].reshape(-1, logits.size(-1))
    return F.cross_entropy(pred, input_ids[:, 1:].reshape(-1))
