"""Known-wrong: tests 'found_inf is True', which is False for a 0-dim bool tensor, so overflows reported as tensors are treated as clean steps."""
import torch


class LossScaler:
    def __init__(self, init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
        self.scale = float(init_scale)
        self.growth_factor = growth_factor
        self.backoff_factor = backoff_factor
        self.growth_interval = growth_interval
        self.clean = 0

    def unscale(self, grads):
        found_inf = any(bool((~torch.isfinite(g)).any()) for g in grads)
        return [g / self.scale for g in grads], found_inf

    def update(self, found_inf):
        if found_inf is True:
            self.scale *= self.backoff_factor
            self.clean = 0
        else:
            self.clean += 1
            if self.clean == self.growth_interval:
                self.scale *= self.growth_factor
                self.clean = 0
