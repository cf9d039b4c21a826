"""Known-wrong: uses x.var(-1), the unbiased estimator (divide by d − 1); layer norm uses the biased variance."""
import torch


def layer_norm(x, weight, bias, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True)
    return weight * (x - mu) / torch.sqrt(var + eps) + bias
