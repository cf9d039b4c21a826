"""Known-wrong: multiplies only the similarity by the label, σ(z·t·cos + b), so the bias pushes every pair the
same way instead of acting as a prior against the many negatives."""
import torch
import torch.nn.functional as F


def siglip_loss(image_emb, text_emb, t, b):
    image_n = F.normalize(image_emb, dim=-1)
    text_n = F.normalize(text_emb, dim=-1)
    z = 2 * torch.eye(image_emb.size(0)) - 1
    return -F.logsigmoid(z * t * (image_n @ text_n.T) + b).sum() / image_emb.size(0)
