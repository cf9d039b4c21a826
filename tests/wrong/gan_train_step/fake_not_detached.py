"""Known-wrong (seen in study articles): the fake batch is not detached in the discriminator step. Both optimizers
are zeroed once at the top, so the D loss's gradient w.r.t. G (which pushes G to make its samples easier to
reject) is still in G's .grad when opt_G.step() runs, added to the generator loss's gradient."""
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    opt_D.zero_grad()
    opt_G.zero_grad()

    d_loss = discriminator_loss(D(real), D(G(z)))  # should be G(z).detach()
    d_loss.backward()
    opt_D.step()

    g_loss = generator_loss(D(G(z)))
    g_loss.backward()
    opt_G.step()
    return d_loss.item(), g_loss.item()
