"""Known-wrong: writes the softmax by hand as exp(logits) / exp(logits).sum() without subtracting the maximum;
at CLIP's scale of 100 the exponentials overflow float32 and the loss becomes NaN or inf."""
import torch
import torch.nn.functional as F


def clip_loss(image_emb, text_emb, logit_scale):
    image_n = F.normalize(image_emb, dim=-1)
    text_n = F.normalize(text_emb, dim=-1)
    e = torch.exp(logit_scale * image_n @ text_n.T)
    diag = torch.diagonal(e)
    image_to_text = -torch.log(diag / e.sum(1)).mean()
    text_to_image = -torch.log(diag / e.sum(0)).mean()
    return 0.5 * (image_to_text + text_to_image)
