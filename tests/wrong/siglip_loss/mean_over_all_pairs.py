"""Known-wrong: averages over all N² pairs (.mean()) instead of summing them and dividing by the batch size N,
so the loss is N times too small and its scale changes with the batch size."""
import torch
import torch.nn.functional as F


def siglip_loss(image_emb, text_emb, t, b):
    image_n = F.normalize(image_emb, dim=-1)
    text_n = F.normalize(text_emb, dim=-1)
    logits = t * image_n @ text_n.T + b
    z = 2 * torch.eye(image_emb.size(0)) - 1
    return -F.logsigmoid(z * logits).mean()
