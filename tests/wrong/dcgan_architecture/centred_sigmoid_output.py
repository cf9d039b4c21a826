"""Known-wrong: centres a sigmoid output, sigmoid(x) − 0.5, to make it zero-mean; its range [−0.5, 0.5] covers only
half of the data's [−1, 1], so the background value −1 (and the full strokes, +1) stay out of reach."""
import torch
import torch.nn as nn


class DCGenerator(nn.Module):
    def __init__(self, z_dim, base=32):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 2 * base, 2, 1, 0, bias=False), nn.BatchNorm2d(2 * base), nn.ReLU(),
            nn.ConvTranspose2d(2 * base, base, 4, 2, 1, bias=False), nn.BatchNorm2d(base), nn.ReLU(),
            nn.ConvTranspose2d(base, 1, 4, 2, 1),
        )

    def forward(self, z):
        return torch.sigmoid(self.net(z.view(z.size(0), self.z_dim, 1, 1))) - 0.5


class DCDiscriminator(nn.Module):
    def __init__(self, base=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, base, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(base, 2 * base, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * base), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * base, 1, 2, 1, 0),
        )

    def forward(self, x):
        return self.net(x).flatten()
