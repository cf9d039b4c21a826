"""Known-wrong (seen in study articles): D is not frozen during the generator update — the G loss's backward fills
D's gradients and D is stepped on them too, so D is trained to help G fool it."""
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    fake = G(z)

    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    opt_G.zero_grad()
    opt_D.zero_grad()
    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_G.step()
    opt_D.step()  # the "combined model" also updates D
    return d_loss.item(), g_loss.item()
