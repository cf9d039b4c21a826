"""Known-wrong: never zeroes the gradients. .backward() accumulates, so every update adds up all earlier
gradients — including the G loss's gradient w.r.t. D, left in D's .grad by the G step."""
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    fake = G(z)

    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_G.step()
    return d_loss.item(), g_loss.item()
