"""Known-wrong: keeps CLIP's softmax cross-entropy (over rows and columns) and only adds the bias, instead of an
independent sigmoid for every pair."""
import torch
import torch.nn.functional as F


def siglip_loss(image_emb, text_emb, t, b):
    image_n = F.normalize(image_emb, dim=-1)
    text_n = F.normalize(text_emb, dim=-1)
    logits = t * image_n @ text_n.T + b
    labels = torch.arange(image_emb.size(0))
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
