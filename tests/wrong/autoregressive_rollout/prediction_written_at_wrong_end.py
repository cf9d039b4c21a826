"""Known-wrong (seen in study articles): the window alignment is dropped — after rolling the window left, the prediction is written into the first slot instead of the last, so the time order inside the window is scrambled."""
import torch


def rollout(step_fn, context, steps):
    window, predictions = context.clone(), []
    for _ in range(steps):
        y = step_fn(window)
        predictions.append(y)
        window = torch.roll(window, shifts=-1, dims=1)
        window[:, 0] = y  # should be window[:, -1]
    return torch.stack(predictions, dim=1)
