"""The fully connected VAE written in PyTorch, module for module, so its state_dict keys match
glassnet's `models.VAE(conv=False)` and weights can be copied across
(`torch_compare.copy_weights`); and its loss, written from the textbook formulas with torch's own
functions (BCE with logits, Normal log-density)."""

from __future__ import annotations

import math

import torch


class TorchVAE(torch.nn.Module):
    def __init__(
        self, image_shape: tuple, latent_dim: int, hidden: tuple, likelihood: str = "bernoulli"
    ) -> None:
        super().__init__()
        tnn = torch.nn
        pixels = math.prod(image_shape)
        layers: list[torch.nn.Module] = [tnn.Flatten()]
        width = pixels
        for size in hidden:
            layers += [tnn.Linear(width, size), tnn.ReLU()]
            width = size
        self.encoder = tnn.Sequential(*layers)
        self.fc_mu = tnn.Linear(width, latent_dim)
        self.fc_logvar = tnn.Linear(width, latent_dim)
        layers, width = [], latent_dim
        for size in hidden[::-1]:
            layers += [tnn.Linear(width, size), tnn.ReLU()]
            width = size
        layers += [tnn.Linear(width, pixels), tnn.Unflatten(1, tuple(image_shape))]
        self.decoder = tnn.Sequential(*layers)
        self.likelihood = likelihood
        if likelihood == "gaussian":
            self.log_sigma = tnn.Parameter(torch.tensor([math.log(0.1)]))

    def loss_terms(self, x: torch.Tensor, eps: torch.Tensor):
        """Batch means of -log p(x | z) and KL(q(z | x) || N(0, I)), z = mu + sigma * eps."""
        features = self.encoder(x)
        mu, logvar = self.fc_mu(features), self.fc_logvar(features)
        z = mu + torch.exp(0.5 * logvar) * eps
        out = self.decoder(z)
        if self.likelihood == "bernoulli":
            nll = torch.nn.functional.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            nll = -torch.distributions.Normal(out, self.log_sigma.exp()).log_prob(x)
        reconstruction = nll.flatten(1).sum(1).mean()
        kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)).mean()
        return reconstruction, kl
