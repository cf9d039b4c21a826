"""Known-wrong: every step predicts from the original context; the window is never slid, so the predictions never move on."""
import torch


def rollout(step_fn, context, steps):
    predictions = [step_fn(context) for _ in range(steps)]
    return torch.stack(predictions, dim=1)
