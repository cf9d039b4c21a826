"""Known-wrong: skips the bias corrections and uses m/(√v + eps) directly, so early steps are too large (≈3.2× at step 1)."""


def adamw_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    param = param * (1 - lr * weight_decay)
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    param = param - lr * exp_avg / (exp_avg_sq.sqrt() + eps)
    return param, exp_avg, exp_avg_sq
