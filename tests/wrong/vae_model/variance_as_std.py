"""Known-wrong (seen in study articles): forward scales the noise by exp(logvar) = sigma^2 as if it were sigma."""
import torch
import torch.nn as nn


class VAE(nn.Module):
    def __init__(self, x_dim, z_dim, hidden=128):
        super().__init__()
        self.z_dim = z_dim
        self.enc = nn.Sequential(nn.Linear(x_dim, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, z_dim)
        self.logvar = nn.Linear(hidden, z_dim)
        self.dec = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, x_dim))

    def encode(self, x):
        h = self.enc(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.dec(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(logvar) * torch.randn_like(mu)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n, generator=None):
        z = torch.randn(n, self.z_dim, generator=generator)
        return torch.sigmoid(self.decode(z))
