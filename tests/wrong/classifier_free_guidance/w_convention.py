"""Known-wrong: uses the other convention ε_c + s·(ε_c − ε_u) (the paper's w) with the task's scale, so scale = 1
already doubles the guidance and scale = 0 gives ε_c instead of ε_u."""
import torch


def cfg_eps(model, x_t, t, cond, null_cond, scale):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([null_cond, cond]))
    eps_u, eps_c = out.chunk(2)
    return eps_c + scale * (eps_c - eps_u)
