"""Known-wrong: doubles the inputs with repeat_interleave (x0, x0, x1, x1, ...) but splits the output with chunk, so
each "half" mixes different examples and conditions."""
import torch


def cfg_eps(model, x_t, t, cond, null_cond, scale):
    x = x_t.repeat_interleave(2, dim=0)
    tt = t.repeat_interleave(2, dim=0)
    c = torch.stack([null_cond, cond], dim=1).flatten(0, 1)
    eps_u, eps_c = model(x, tt, c).chunk(2)
    return eps_u + scale * (eps_c - eps_u)
