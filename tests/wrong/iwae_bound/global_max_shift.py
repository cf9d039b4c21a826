"""Known-wrong: shifts by the max over the WHOLE batch instead of each example's own max; an example whose
log-weights sit far below another's underflows to log 0 = −inf."""
import math

import torch


def iwae_bound(log_p_xz, log_q_zx):
    log_w = log_p_xz - log_q_zx
    m = log_w.max()
    return m + torch.log(torch.exp(log_w - m).sum(dim=-1)) - math.log(log_w.size(-1))
