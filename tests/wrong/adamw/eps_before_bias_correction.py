"""Known-wrong: the Adam paper's 'efficient' form with lr·√(1 − β2^t)/(1 − β1^t) and eps added to √v before the correction, so eps is effectively eps/√(1 − β2^t)."""
import math


def adamw_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    param = param * (1 - lr * weight_decay)
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    param = param - step_size * exp_avg / (exp_avg_sq.sqrt() + eps)
    return param, exp_avg, exp_avg_sq
