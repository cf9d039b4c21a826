"""Known-wrong (seen in study articles): the predictions are concatenated in the wrong shape — cat along dim 0 gives (steps·B, F), and reshaping that to (B, steps, F) mixes up batch rows and time steps."""
import torch


def rollout(step_fn, context, steps):
    B, W, F = context.shape
    window, predictions = context, []
    for _ in range(steps):
        y = step_fn(window)
        predictions.append(y)
        window = torch.cat([window[:, 1:], y.unsqueeze(1)], dim=1)
    return torch.cat(predictions, dim=0).reshape(B, steps, F)
