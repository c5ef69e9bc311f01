"""Recipe: the scale of networks, counted on real models without building them.

The guide: "A CNN processing a 224x224 image might have 25 million parameters; a fully connected
network for the same input would need over 150 billion parameters in the first layer alone."
This recipe counts both. ResNet-50 (torchvision's layout) and a fully connected layer from the
3x224x224 = 150,528 input numbers to a million hidden units are built on the 'meta' device,
where every weight has its shape but no memory (`glassnet.meta`), and `summary()` runs ResNet-50
on a meta image to get every layer's output shape. The fully connected layer alone would take
602 GB of float32; the whole run stays within a few MB, which it measures and prints.
Writes resnet50_summary.txt (every layer) to `out_dir`.
"""

from __future__ import annotations

import os
import time
import tracemalloc

from ..explain import summary
from ..meta import device
from ..models.resnet import resnet50
from ..nn import Linear
from .console import writer

QUOTE = (
    '"A CNN processing a 224x224 image might have 25 million parameters; a fully connected '
    'network for the same input would need over 150 billion parameters in the first layer alone."'
)


def _stages(table) -> list[tuple[str, str, int]]:
    """The summary grouped by the model's top-level parts: (part, last output shape, params)."""
    stages: dict[str, list] = {}
    for row in table.rows:
        part = row.name.split(".")[0]
        entry = stages.setdefault(part, [row.shape_text, 0])
        entry[0] = row.shape_text
        entry[1] += row.params
    return [(part, shape, params) for part, (shape, params) in stages.items()]


def run(
    out_dir: str = "runs/scale",
    image_size: int = 224,
    hidden: int = 1_000_000,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Count ResNet-50 and a fully connected first layer for a 3 x `image_size`^2 image with
    `hidden` units, on the meta device; print the guide's comparison (`seed` and `progress` are
    accepted for the CLI; nothing here is random or trained)."""
    say = writer(verbose)
    inputs = 3 * image_size * image_size
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with device("meta"):
            cnn = resnet50()
            dense = Linear(inputs, hidden)
        cnn_table = summary(cnn, input_shape=(3, image_size, image_size))
        dense_table = summary(dense, input_shape=(inputs,))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    seconds = time.perf_counter() - start

    cnn_params, dense_params = cnn_table.total_params, dense_table.total_params
    gb = 4 / 1e9  # bytes of a float32, in GB
    say("the guide: " + QUOTE + "\n")
    say(f"ResNet-50 (torchvision's layout) on a 3x{image_size}x{image_size} image, by stage:")
    width = max(len(part) for part, _, _ in _stages(cnn_table)) + 2
    for part, shape, params in _stages(cnn_table):
        say(f"  {part:<{width}}{shape:<20}{params:>14,}")
    say(f"  total: {cnn_params:,} parameters ({cnn_params * gb * 1000:,.1f} MB as float32)")
    say(f"  its first layer, conv1 (64 filters of 3x7x7): {cnn_table.rows[0].params:,} parameters")
    say(
        f"\na fully connected first layer, Linear({inputs:,} -> {hidden:,}): "
        f"{dense_params:,} parameters ({dense_params * gb:,.1f} GB as float32),"
    )
    say(
        f"  {dense_params / cnn_params:,.0f} times all of ResNet-50: every one of the {hidden:,} "
        f"units has its own weight for each of the {inputs:,} input numbers"
    )
    say(
        f"\nboth were built and run through summary() on the 'meta' device (shapes, no values): "
        f"{seconds:.2f} s, peak memory {peak / 2**20:.1f} MB (tracemalloc)"
    )
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "resnet50_summary.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(str(cnn_table) + "\n")
    say(f"wrote {path}")
    return {
        "resnet50_params": cnn_params,
        "dense_params": dense_params,
        "ratio": dense_params / cnn_params,
        "peak_bytes": peak,
        "seconds": seconds,
        "files": [path],
    }
