"""Known-wrong: Adam with L2 regularization — adds weight_decay·param to the gradient instead of decaying the weights directly (what AdamW fixes)."""
import math


def adamw_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    grad = grad + weight_decay * param
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    denom = exp_avg_sq.sqrt() / math.sqrt(1 - beta2 ** step) + eps
    param = param - lr / (1 - beta1 ** step) * exp_avg / denom
    return param, exp_avg, exp_avg_sq
