"""Known-wrong: computes the warmup factor min(1, step / warmup_steps) unconditionally, which divides by zero when warmup_steps = 0."""
import math


def warmup_cosine_lr(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    warm = min(1.0, step / warmup_steps)
    if warm < 1.0:
        return max_lr * warm
    if step > total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))
