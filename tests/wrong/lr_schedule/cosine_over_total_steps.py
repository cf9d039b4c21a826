"""Known-wrong: measures the cosine's progress as step/total_steps instead of (step − warmup)/(total − warmup), so the lr jumps down at the end of warmup."""
import math


def warmup_cosine_lr(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if step > total_steps:
        return min_lr
    progress = step / total_steps
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))
