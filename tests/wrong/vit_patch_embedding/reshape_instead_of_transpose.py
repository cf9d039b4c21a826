"""Known-wrong: reshapes the conv output (B, d, H/P, W/P) straight to (B, N, d) instead of flattening and
transposing; the numbers are the same but each "token" mixes features of different patches."""
import torch
import torch.nn as nn


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, d_model):
        super().__init__()
        self.grid = img_size // patch_size
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, d_model, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, self.grid * self.grid + 1, d_model))

    def forward(self, x):
        B = x.size(0)
        x = self.proj(x)
        x = x.reshape(B, -1, x.size(1))
        x = torch.cat([self.cls_token.expand(B, -1, -1), x], dim=1)
        return x + self.pos_embed
