"""Model summaries: what each layer of a network outputs and how many numbers it learns.

`summary(model, input_shape=(64,))` passes one batch of zeros through the model and, with a forward
hook on every layer, notes the shape each layer hands on and the parameters it owns. The table it
prints (as Keras' `model.summary()` does) is often the quickest way to see why shapes do not fit.
A model built on the 'meta' device (``with glassnet.device("meta"): model = resnet50()``) gets a
meta input, so the pass works out every shape without computing or allocating anything.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from ..autograd import no_grad
from ..dtypes import float32
from ..meta import full
from ..tensor import Tensor

_NOT_CALLED = "--"


@dataclass(frozen=True)
class SummaryRow:
    """One layer: its name in the model, class, output shape and own parameter count."""

    name: str
    type: str
    output_shape: list | str
    params: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.type})"

    @property
    def shape_text(self) -> str:
        return _shape_text(self.output_shape)


@dataclass(frozen=True)
class Summary:
    """The result of `summary`: `rows` in the order the layers ran, and parameter totals.

    Totals count every parameter of the model once, even when layers share it; rows count the
    parameters each layer owns. Layers that the forward pass never reached come last, with output
    shape "--". Buffers (such as BatchNorm's running mean) are not parameters and are not counted.
    """

    rows: list[SummaryRow]
    total_params: int
    trainable_params: int

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        labels = [row.label for row in self.rows]
        shapes = [row.shape_text for row in self.rows]
        counts = [f"{row.params:,}" for row in self.rows]
        # Minimum widths keep short tables in Keras' familiar proportions; long names widen them.
        w_label = max([20, *map(len, labels)]) + 1
        w_shape = max([18, *map(len, shapes)]) + 1
        w_count = max([10, *map(len, counts)])
        rule = "=" * (w_label + w_shape + w_count)
        lines = [f"{'Layer (type)':<{w_label}}{'Output Shape':<{w_shape}}Param #", rule]
        lines += [
            f"{label:<{w_label}}{shape:<{w_shape}}{count}"
            for label, shape, count in zip(labels, shapes, counts)
        ]
        lines += [
            rule,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
        ]
        return "\n".join(line.rstrip() for line in lines)

    def __repr__(self) -> str:
        return str(self)


def count_parameters(model: Any, trainable_only: bool = False) -> int:
    """The number of learnable numbers in `model`, each shared parameter counted once.

    With `trainable_only=True`, only parameters with ``requires_grad`` (those an optimizer updates).
    """
    return sum(
        p.numel() for p in _unique(model.parameters()) if p.requires_grad or not trainable_only
    )


def summary(
    model: Any,
    input_shape: int | Sequence[int] | None = None,
    input: Any = None,  # noqa: A002 (the natural name, as in torchinfo)
    dtype: Any = float32,
    batch_size: int = 1,
    device: Any = None,
) -> Summary:
    """Run `model` once on zeros and tabulate every layer's output shape and parameter count.

    Args:
        model: the Module to describe. It is left exactly as it was (the pass runs in eval mode
            under `no_grad`, and every module's train/eval flag is restored afterwards).
        input_shape: the shape of ONE example, without the batch dimension: ``(64,)`` for
            64 features, ``(1, 28, 28)`` for a grey image. The model receives zeros of shape
            ``(batch_size, *input_shape)`` and `dtype` (use ``glassnet.int64`` for token ids).
        input: instead of `input_shape`, a Tensor (or a tuple of Tensors, passed as separate
            arguments) to run the model on, batch dimension included.
        dtype: the dtype of the zeros made from `input_shape`.
        batch_size: the batch dimension of the zeros; it shows up first in every output shape.
        device: where to make the zeros: "meta" (shapes only) or "cpu"; by default "meta" when
            the model has any tensor on the meta device, else "cpu".

    Returns:
        a `Summary`: ``print()`` it for the table, or read ``.rows``, ``.total_params``,
        ``.trainable_params`` and ``.non_trainable_params``.
    """
    if device is None:
        on_meta = any(t.is_meta for t in (*model.parameters(), *model.buffers()))
        device = "meta" if on_meta else "cpu"
    inputs = _make_inputs(input_shape, input, dtype, batch_size, device)
    layers = _layers(model)
    rows: list[SummaryRow] = []  # in the order the layers finish, one per call
    called: set[int] = set()

    def recorder(name: str) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            called.add(id(module))
            rows.append(
                SummaryRow(name, type(module).__name__, _shapes_of(output), _own_params(module))
            )

        return hook

    modes = [(module, module.training) for module in model.modules()]
    handles = [module.register_forward_hook(recorder(name)) for name, module in layers]
    try:
        model.eval()
        with no_grad():
            model(*inputs)
    except Exception as e:
        shapes = ", ".join(str(tuple(x.shape)) for x in inputs)
        raise RuntimeError(
            f"summary(): the forward pass of {type(model).__name__} on an input of shape "
            f"{shapes} failed: {type(e).__name__}: {e}"
        ) from e
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            module.training = training

    rows += [
        SummaryRow(name, type(module).__name__, _NOT_CALLED, _own_params(module))
        for name, module in layers
        if id(module) not in called
    ]
    return Summary(
        rows=rows,
        total_params=count_parameters(model),
        trainable_params=count_parameters(model, trainable_only=True),
    )


def print_summary(model: Any, *args: Any, file: IO[str] | None = None, **kwargs: Any) -> Summary:
    """Print `summary(model, ...)`'s table (to `file`, stdout by default) and return it."""
    result = summary(model, *args, **kwargs)
    print(result, file=file or sys.stdout)
    return result


# -- helpers ---------------------------------------------------------------------------------------


def _make_inputs(
    input_shape: int | Sequence[int] | None, input: Any, dtype: Any, batch_size: int, device: Any
) -> tuple:
    if (input_shape is None) == (input is None):
        raise ValueError("summary(): give exactly one of input_shape (without batch) or input")
    if input is not None:
        inputs = tuple(input) if isinstance(input, tuple | list) else (input,)
        for i, x in enumerate(inputs):
            if not isinstance(x, Tensor):
                raise TypeError(f"summary(): input[{i}] must be a Tensor, got {type(x).__name__}")
        return inputs
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"summary(): batch_size must be a positive int, got {batch_size!r}")
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape):
        raise ValueError(
            f"summary(): input_shape must be positive ints (one example, no batch dimension), "
            f"got {input_shape!r}"
        )
    return (Tensor(full((batch_size, *shape), 0, dtype, device)),)


def _layers(model: Any) -> list[tuple[str, Any]]:
    """Modules to report: leaves, and containers that also own parameters directly."""
    return [
        (name or type(model).__name__, module)
        for name, module in model.named_modules()
        if next(iter(module.children()), None) is None or _own_params(module)
    ]


def _own_params(module: Any) -> int:
    return sum(p.numel() for p in _unique(module.parameters(recurse=False)))


def _unique(params: Iterable[Any]) -> list[Any]:
    seen: dict[int, Any] = {}
    for p in params:
        seen.setdefault(id(p), p)
    return list(seen.values())


def _shapes_of(output: Any) -> list | str:
    if isinstance(output, Tensor):
        return list(output.shape)
    if isinstance(output, tuple | list):
        return [_shapes_of(item) for item in output]
    return type(output).__name__


def _shape_text(shape: list | str, top: bool = True) -> str:
    """[1, 10] for one tensor; [1, 5, 20], ([1, 1, 20], [1, 1, 20]) for nested outputs."""
    if isinstance(shape, str):
        return shape
    if all(isinstance(n, int) for n in shape):
        return "[" + ", ".join(map(str, shape)) + "]"
    inner = ", ".join(_shape_text(item, top=False) for item in shape)
    return inner if top else f"({inner})"
