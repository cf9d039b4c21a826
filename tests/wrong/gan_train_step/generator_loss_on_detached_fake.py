"""Known-wrong (seen in study articles): the generator's loss is computed on a detached fake, so no gradient
reaches G and the generator never learns."""
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    fake = G(z).detach()

    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake))
    d_loss.backward()
    opt_D.step()

    opt_G.zero_grad()
    g_loss = generator_loss(D(fake))  # detached: the graph back to G is cut
    g_loss.backward()
    opt_G.step()
    return d_loss.item(), g_loss.item()
