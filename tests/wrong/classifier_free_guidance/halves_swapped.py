"""Known-wrong: puts cond in the first half of the batch but still reads ε_u from the first half, so the unconditional
and conditional predictions are swapped and guidance pushes AWAY from the condition."""
import torch


def cfg_eps(model, x_t, t, cond, null_cond, scale):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([cond, null_cond]))
    eps_u, eps_c = out.chunk(2)
    return eps_u + scale * (eps_c - eps_u)
