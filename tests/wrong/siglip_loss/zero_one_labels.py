"""Known-wrong: uses 0/1 labels (the identity matrix) in the ±1 formula log σ(z·logit); every negative pair then
contributes the constant log σ(0) and is never pushed apart."""
import torch
import torch.nn.functional as F


def siglip_loss(image_emb, text_emb, t, b):
    image_n = F.normalize(image_emb, dim=-1)
    text_n = F.normalize(text_emb, dim=-1)
    logits = t * image_n @ text_n.T + b
    z = torch.eye(image_emb.size(0))
    return -F.logsigmoid(z * logits).sum() / image_emb.size(0)
