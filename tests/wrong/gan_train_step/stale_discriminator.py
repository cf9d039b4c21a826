"""Known-wrong: the generator step is done first, against the discriminator from BEFORE this step's update, so G
chases a stale D (the task asks for the G loss through the updated D)."""
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real, z):
    fake = G(z)

    opt_G.zero_grad()
    g_loss = generator_loss(D(fake))  # D has not been updated yet
    g_loss.backward()
    opt_G.step()

    opt_D.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()
    return d_loss.item(), g_loss.item()
