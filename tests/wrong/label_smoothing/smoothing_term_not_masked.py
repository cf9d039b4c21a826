"""Known-wrong: uses F.nll_loss(ignore_index=...) for the NLL part but averages the uniform (s/C) term over ALL rows, ignored ones included."""
import torch
import torch.nn.functional as F


def smoothed_cross_entropy(logits, target, smoothing=0.1, ignore_index=-100):
    log_p = torch.log_softmax(logits, dim=-1)
    nll = F.nll_loss(log_p, target, ignore_index=ignore_index)
    uniform = -log_p.mean(dim=-1).mean()
    return (1 - smoothing) * nll + smoothing * uniform
