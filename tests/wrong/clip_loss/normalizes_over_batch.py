"""Known-wrong: normalizes along dim=0 (each feature over the batch) instead of each embedding along its
features, so the scores are not cosine similarities."""
import torch
import torch.nn.functional as F


def clip_loss(image_emb, text_emb, logit_scale):
    image_n = F.normalize(image_emb, dim=0)
    text_n = F.normalize(text_emb, dim=0)
    logits = logit_scale * image_n @ text_n.T
    labels = torch.arange(image_emb.size(0))
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
