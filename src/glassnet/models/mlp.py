"""The multilayer perceptron: layers of weighted sums, each followed by a nonlinearity.

Each Linear layer mixes its inputs with learned weights; the activation between layers bends the
result, which is what lets a stack of layers learn curved decision boundaries instead of one
straight line. `MLP([64, 128, 10])` is the network Linear(64, 128) -> ReLU -> Linear(128, 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import checks
from ..nn.container import Sequential
from ..nn.layers import (
    ELU,
    GELU,
    Dropout,
    Identity,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
)
from ..nn.module import Module

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "gelu": GELU,
    "silu": SiLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "softplus": Softplus,
    "linear": Identity,
    "identity": Identity,
}


def _activation_class(activation: str | type[Module], argument: str) -> type[Module]:
    if isinstance(activation, str):
        cls = ACTIVATIONS.get(activation.lower())
        if cls is None:
            raise ValueError(
                f"MLP: unknown {argument} {activation!r}; known: {', '.join(ACTIVATIONS)} "
                "(or pass a Module class such as glassnet.nn.ReLU)"
            )
        return cls
    if isinstance(activation, type) and issubclass(activation, Module):
        return activation
    raise TypeError(
        f"MLP: {argument} must be a name ({', '.join(ACTIVATIONS)}) or a Module class, "
        f"got {activation!r}"
    )


def _activation_name(activation: str | type[Module] | None, argument: str) -> str | None:
    """The name under which `ACTIVATIONS` knows `activation` (None stays None)."""
    if activation is None or isinstance(activation, str):
        return activation
    for name, cls in ACTIVATIONS.items():
        if cls is activation:
            return name
    raise ValueError(
        f"MLP.config: the {argument} {activation.__name__} has no name in ACTIVATIONS "
        f"({', '.join(ACTIVATIONS)}), so the model cannot be described by its arguments"
    )


class MLP(Sequential):
    """A fully connected feedforward network: Linear layers with an activation between them.

    Args:
        sizes: the width of every layer, input first and output last: ``[in, hidden..., out]``.
        activation: applied after every hidden Linear layer: a name (``"relu"``, ``"tanh"``,
            ``"sigmoid"``, ``"gelu"``, ``"silu"``, ``"leaky_relu"``, ``"elu"``, ``"softplus"``,
            ``"linear"``/``"identity"``) or a Module class, built with no arguments.
        dropout: if above 0, a Dropout(p=dropout) follows every hidden activation.
        output_activation: optionally one more activation after the last Linear layer
            (e.g. ``"sigmoid"`` for probabilities); None leaves the outputs as raw scores.
        bias: whether the Linear layers have biases.

    The layers are numbered as in the equivalent ``torch.nn.Sequential`` (Linear, activation,
    [Dropout,] Linear, ...), so state_dict keys ("0.weight", "2.bias", ...) match PyTorch's.
    An identity "activation" is still a layer (Identity), so the numbering does not depend on
    the choice of activation.

    Shape:
        input ``(*, sizes[0])``, output ``(*, sizes[-1])``.

    Example::

        >>> model = MLP([64, 128, 10])
        >>> model(glassnet.zeros(32, 64)).shape
        (32, 10)
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | type[Module] = "relu",
        dropout: float = 0.0,
        output_activation: str | type[Module] | None = None,
        bias: bool = True,
    ) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        for i, size in enumerate(sizes):
            checks.positive_int(size, f"sizes[{i}] (of {sizes})", "MLP")
        checks.probability(dropout, "dropout", "MLP", include_one=False)
        hidden_activation = _activation_class(activation, "activation")
        final_activation = (
            None
            if output_activation is None
            else _activation_class(output_activation, "output_activation")
        )

        layers: list[Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(fan_in, fan_out, bias=bias))
            if i < len(sizes) - 2:
                layers.append(hidden_activation())
                if dropout > 0.0:
                    layers.append(Dropout(dropout))
        if final_activation is not None:
            layers.append(final_activation())
        super().__init__(*layers)
        self.sizes = sizes
        self.activation, self.output_activation = activation, output_activation
        self.dropout, self.bias = dropout, bias

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``MLP(**model.config())``. An activation given
        as a Module class is written by its name in `ACTIVATIONS`."""
        return {
            "sizes": list(self.sizes),
            "activation": _activation_name(self.activation, "activation"),
            "dropout": self.dropout,
            "output_activation": _activation_name(self.output_activation, "output_activation"),
            "bias": self.bias,
        }
