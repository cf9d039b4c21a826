"""Known-wrong: the generator minimizes the saturating minimax loss log(1 − D(G(z))) instead of the non-saturating
−log D(G(z)); its gradient vanishes while D rejects the fakes."""
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    fake = G(z)

    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    opt_G.zero_grad()
    g_loss = -F.softplus(D(fake)).mean()  # mean log(1 − σ(ℓ))
    g_loss.backward()
    opt_G.step()
    return d_loss.item(), g_loss.item()
