"""Known-wrong: computes torch.log(torch.sigmoid(u)); once σ(u) underflows to 0 (u below about −88.7 in float32)
the loss is inf. F.logsigmoid is the stable form."""
import torch
import torch.nn.functional as F


def siglip_loss(image_emb, text_emb, t, b):
    image_n = F.normalize(image_emb, dim=-1)
    text_n = F.normalize(text_emb, dim=-1)
    logits = t * image_n @ text_n.T + b
    z = 2 * torch.eye(image_emb.size(0)) - 1
    return -torch.log(torch.sigmoid(z * logits)).sum() / image_emb.size(0)
