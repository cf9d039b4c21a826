"""Known-wrong: cuts the patches by hand and flattens each in (P, P, C) order (channels last, as DiT's
patchify), but multiplies by the conv weight flattened in its own (C, P, P) order."""
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
        P, g = self.patch_size, self.grid
        C = x.size(1)
        patches = x.reshape(B, C, g, P, g, P).permute(0, 2, 4, 3, 5, 1).reshape(B, g * g, P * P * C)
        W = self.proj.weight.reshape(self.proj.out_channels, -1)
        x = patches @ W.T + self.proj.bias
        x = torch.cat([self.cls_token.expand(B, -1, -1), x], dim=1)
        return x + self.pos_embed
