"""Known-wrong: copies CLIP's `logit_scale.exp()` although the argument is already the multiplier s = 1/τ,
not its logarithm (the original code stores log s as the learnable parameter)."""
import torch
import torch.nn.functional as F


def clip_loss(image_emb, text_emb, logit_scale):
    image_n = F.normalize(image_emb, dim=-1)
    text_n = F.normalize(text_emb, dim=-1)
    logits = torch.exp(torch.as_tensor(logit_scale, dtype=image_emb.dtype)) * image_n @ text_n.T
    labels = torch.arange(image_emb.size(0))
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
