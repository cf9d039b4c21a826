"""Known-wrong: appends each prediction without dropping the oldest value, so the window keeps growing and its start stays at the first observation."""
import torch


def rollout(step_fn, context, steps):
    window, predictions = context, []
    for _ in range(steps):
        y = step_fn(window)
        predictions.append(y)
        window = torch.cat([window, y.unsqueeze(1)], dim=1)
    return torch.stack(predictions, dim=1)
