"""Known-wrong: flattens each patch in (C, p, p) order, channels first (what F.unfold and a Conv2d's weight do);
DiT's tokens are (p, p, C), channels last."""
import torch


def patchify(x, p):
    B, C, H, W = x.shape
    h, w = H // p, W // p
    x = x.reshape(B, C, h, p, w, p).permute(0, 2, 4, 1, 3, 5)  # (B, h, w, C, p, p)
    return x.reshape(B, h * w, C * p * p)


def unpatchify(tokens, p, C, H, W):
    B = tokens.size(0)
    h, w = H // p, W // p
    x = tokens.reshape(B, h, w, C, p, p).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(B, C, H, W)
