"""Known-wrong: adds the position embeddings to the patches before prepending the class token, using the first
N rows; the class token gets no position and every patch gets its left neighbour's embedding."""
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
        x = self.proj(x).flatten(2).transpose(1, 2)
        x = x + self.pos_embed[:, : x.size(1)]
        return torch.cat([self.cls_token.expand(B, -1, -1), x], dim=1)
