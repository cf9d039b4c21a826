"""Known-wrong: the cosine decays max_lr to 0 (½·max_lr·(1 + cos)), forgetting to decay towards min_lr."""
import math


def warmup_cosine_lr(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if step > total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * max_lr * (1 + math.cos(math.pi * progress))
