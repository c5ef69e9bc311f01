"""Recipe: a Vision Transformer reads MNIST's 28x28 digits as 16 patches of 7x7 pixels.

The data are the mnist-cnn recipe's (the full 60,000/10,000 when they can be had; offline, 8,000
of the 10,000 test images to train on and the other 2,000 to test), with the same random shifts
of up to 2 pixels as augmentation. The model and the training are the digits-vit recipe's: a
class token and the patch tokens through pre-norm encoder layers, AdamW with a warm-up and
cosine schedule; the class token's attention to the patches is drawn for a few test digits.
"""

from __future__ import annotations

from .. import manual_seed
from ..data import DataLoader, TensorDataset
from ..models import ViT
from .digits_vit import train_vit
from .mnist_cnn import RandomShifts, ShiftedLoader, load_data


def run(
    out_dir: str = "runs/mnist-vit",
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.05,
    warmup_epochs: int = 1,
    patch_size: int = 7,
    d_model: int = 64,
    depth: int = 4,
    heads: int = 4,
    mlp_dim: int = 128,
    dropout: float = 0.1,
    split: str = "auto",
    augment: bool = True,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a ViT on MNIST (or its 10k test set, split 8,000/2,000); evaluate, plot, save."""
    say = print if verbose else (lambda *a, **k: None)
    manual_seed(seed)
    (x_train, y_train), test, described = load_data(split, say)
    say(f"{described}; {(28 // patch_size) ** 2} patches of {patch_size}x{patch_size}")
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True)
    train_data = ShiftedLoader(loader, RandomShifts(2, seed)) if augment else loader
    model = ViT(28, patch_size, 1, 10, d_model, depth, heads, mlp_dim, dropout)
    result = train_vit(
        model,
        train_data,
        test,
        name="MNIST ViT",
        out_dir=out_dir,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        warmup_epochs=warmup_epochs,
        progress=progress,
        say=say,
    )
    return {**result, "data": described}
