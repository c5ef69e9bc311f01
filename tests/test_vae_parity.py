"""VAE training parity: the same fully connected VAE, from the same initial weights, trained on
the same batches of digits with the same reparameterisation noise (drawn in NumPy and passed to
both), in glassnet and in PyTorch, ends at the same test ELBO."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.data.datasets.digits import load_digits
from glassnet.models import VAE
from torch_generative import TorchVAE, copy_weights

pytestmark = pytest.mark.slow


def test_vae_trained_in_both_libraries_ends_at_the_same_test_elbo():
    gn.manual_seed(0)
    x_train = load_digits("train", flatten=False)[0].numpy()
    x_test = load_digits("test", flatten=False)[0].numpy()
    latent, hidden, epochs, batch = 8, (256, 128), 25, 32
    ours = VAE((1, 8, 8), latent, hidden)
    theirs = TorchVAE((1, 8, 8), latent, hidden)
    copy_weights(ours, theirs)
    opt_ours = gn.optim.Adam(ours.parameters(), lr=2e-3)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=2e-3)
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        for start in range(0, len(x_train), batch):
            xb = x_train[order[start : start + batch]]
            eps = rng.standard_normal((len(xb), latent)).astype(np.float32)
            opt_ours.zero_grad()
            ours.loss(ours(gn.tensor(xb), eps=gn.tensor(eps)), gn.tensor(xb)).backward()
            opt_ours.step()
            opt_theirs.zero_grad()
            reconstruction, kl = theirs.loss_terms(torch.from_numpy(xb), torch.from_numpy(eps))
            (reconstruction + kl).backward()
            opt_theirs.step()

    eps = np.random.default_rng(1).standard_normal((len(x_test), latent)).astype(np.float32)
    with gn.no_grad():
        elbo_ours = ours.loss_terms(ours(gn.tensor(x_test), eps=gn.tensor(eps)), gn.tensor(x_test))
    with torch.no_grad():
        reconstruction, kl = theirs.loss_terms(torch.from_numpy(x_test), torch.from_numpy(eps))
    elbo_theirs = -(reconstruction + kl).item()
    print(
        f"test ELBO after {epochs} epochs: glassnet {elbo_ours.elbo:.4f}, torch {elbo_theirs:.4f}"
    )
    assert elbo_ours.elbo > -30.0  # trained: the untrained VAE is near -45 nats per image
    assert elbo_ours.elbo == pytest.approx(elbo_theirs, rel=0.01)
