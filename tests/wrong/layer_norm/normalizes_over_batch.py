"""Known-wrong: statistics over the batch dimension (dim=0, batch-norm style) instead of over each row's features."""
import torch


def layer_norm(x, weight, bias, eps=1e-5):
    mu = x.mean(0, keepdim=True)
    var = (x - mu).pow(2).mean(0, keepdim=True)
    return weight * (x - mu) / torch.sqrt(var + eps) + bias
