"""Known-wrong: computes log(mean(exp(log w))) directly; exp(−1e4) underflows to 0 (log 0 = −inf) and exp(500)
overflows to inf."""
import torch


def iwae_bound(log_p_xz, log_q_zx):
    return torch.exp(log_p_xz - log_q_zx).mean(dim=-1).log()
