"""The fully connected VAE written in PyTorch (`torch_twins.TorchVAE`, whose state_dict keys
match glassnet's `models.VAE(conv=False)`, so weights can be copied across with
`torch_compare.copy_weights`), with its loss written from the textbook formulas with torch's own
functions (BCE with logits, Normal log-density)."""

from __future__ import annotations

import torch

import torch_twins


class TorchVAE(torch_twins.TorchVAE):
    def __init__(
        self, image_shape: tuple, latent_dim: int, hidden: tuple, likelihood: str = "bernoulli"
    ) -> None:
        super().__init__(image_shape, latent_dim, hidden, likelihood=likelihood)
        self.likelihood = likelihood

    def loss_terms(self, x: torch.Tensor, eps: torch.Tensor):
        """Batch means of -log p(x | z) and KL(q(z | x) || N(0, I)), z = mu + sigma * eps."""
        out, mu, logvar, _ = self(x, eps)
        if self.likelihood == "bernoulli":
            nll = torch.nn.functional.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            nll = -torch.distributions.Normal(out, self.log_sigma.exp()).log_prob(x)
        reconstruction = nll.flatten(1).sum(1).mean()
        kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)).mean()
        return reconstruction, kl
