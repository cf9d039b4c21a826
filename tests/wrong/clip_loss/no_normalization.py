"""Known-wrong: skips the L2 normalization and uses raw dot products, so the loss depends on the embeddings'
norms (CLIP's logits are scaled cosine similarities)."""
import torch
import torch.nn.functional as F


def clip_loss(image_emb, text_emb, logit_scale):
    logits = logit_scale * image_emb @ text_emb.T
    labels = torch.arange(image_emb.size(0))
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
