"""Known-wrong: drops the relu and writes the Wasserstein critic loss −mean real + mean fake; nothing stops D from
pushing logits without bound and the loss never reaches 0."""


def hinge_d_loss(real_logits, fake_logits):
    return -real_logits.mean() + fake_logits.mean()


def hinge_g_loss(fake_logits):
    return -fake_logits.mean()
