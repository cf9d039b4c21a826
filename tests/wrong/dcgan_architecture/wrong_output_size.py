"""Known-wrong (seen in study articles): the generator upsamples once too often and makes 16×16 images while the
discriminator (and the data) are 8×8 — the 56×56-vs-28×28 / 32×32-vs-64×64 mistake of the articles, scaled down."""
import torch.nn as nn


class DCGenerator(nn.Module):
    def __init__(self, z_dim, base=32):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 2 * base, 2, 1, 0, bias=False), nn.BatchNorm2d(2 * base), nn.ReLU(),  # 2×2
            nn.ConvTranspose2d(2 * base, base, 4, 2, 1, bias=False), nn.BatchNorm2d(base), nn.ReLU(),  # 4×4
            nn.ConvTranspose2d(base, base, 4, 2, 1, bias=False), nn.BatchNorm2d(base), nn.ReLU(),  # 8×8
            nn.ConvTranspose2d(base, 1, 4, 2, 1), nn.Tanh(),  # 16×16
        )

    def forward(self, z):
        return self.net(z.view(z.size(0), self.z_dim, 1, 1))


class DCDiscriminator(nn.Module):
    def __init__(self, base=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, base, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(base, 2 * base, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * base), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * base * 2 * 2, 1),
        )

    def forward(self, x):
        return self.net(x).flatten()
