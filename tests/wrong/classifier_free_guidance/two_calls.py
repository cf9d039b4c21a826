"""Known-wrong: calls the model twice (once unconditional, once conditional); the values are right but it costs two
forward passes where the task asks for one batched call."""
import torch


def cfg_eps(model, x_t, t, cond, null_cond, scale):
    eps_u = model(x_t, t, null_cond)
    eps_c = model(x_t, t, cond)
    return eps_u + scale * (eps_c - eps_u)
