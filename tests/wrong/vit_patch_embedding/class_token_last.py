"""Known-wrong: appends the class token after the patches instead of putting it first, as BERT's [CLS] and ViT
do (the head then reads token 0, a patch)."""
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
        x = torch.cat([x, self.cls_token.expand(B, -1, -1)], dim=1)
        return x + self.pos_embed
