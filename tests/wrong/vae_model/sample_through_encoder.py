"""Known-wrong (seen in study articles): generates by pushing random noise through the encoder (then the decoder) instead of decoding z ~ N(0, I)."""
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
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n, generator=None):
        noise = torch.rand(n, self.enc[0].in_features, generator=generator)  # a random "image"
        mu, logvar = self.encode(noise)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)
        return torch.sigmoid(self.decode(z))
