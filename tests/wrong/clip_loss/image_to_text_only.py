"""Known-wrong: only the image→text direction (cross-entropy over each row); the text→image term over the
columns is missing, so the loss is not symmetric in the two modalities."""
import torch
import torch.nn.functional as F


def clip_loss(image_emb, text_emb, logit_scale):
    image_n = F.normalize(image_emb, dim=-1)
    text_n = F.normalize(text_emb, dim=-1)
    logits = logit_scale * image_n @ text_n.T
    return F.cross_entropy(logits, torch.arange(image_emb.size(0)))
