"""The `glassnet` command: train the demo network, run a recipe, list what there is.

glassnet demo                 train an MLP on real handwritten digits and show what it learned
glassnet train RECIPE         run one recipe (see `glassnet list`)
glassnet list                 the recipes, one line each
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--epochs", type=int, default=None, help="number of epochs")
    parser.add_argument("--out", default=None, help="output folder (default: runs/NAME)")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar, even on a terminal"
    )


def build_parser() -> argparse.ArgumentParser:
    from .recipes import RECIPES

    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="glassnet: neural networks you can see inside. Small, readable, PyTorch names.",
    )
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="train an MLP on the 1,797 real 8x8 handwritten digits (offline, about 10 s); prints "
        "test accuracy, confusion matrix and parameter count; writes runs/demo/",
        description="Train a multilayer perceptron on scikit-learn's handwritten digits and "
        "write the loss/accuracy curves (curves.png), the confusion matrix and the weights "
        "(model.safetensors) to runs/demo/.",
    )
    _add_common(demo)

    train = sub.add_parser(
        "train",
        help="run a recipe: data + model + training + what it shows, written to runs/RECIPE/",
        description="Run one recipe. Recipes: "
        + "; ".join(f"{r.name}: {r.summary}" for r in RECIPES.values()),
    )
    train.add_argument("recipe", help="recipe name (see `glassnet list`)")
    _add_common(train)

    sub.add_parser("list", help="list the recipes")
    return parser


def _run_recipe(name: str, args: argparse.Namespace) -> int:
    from .recipes import get_recipe

    try:
        recipe = get_recipe(name)
    except KeyError as err:
        print(f"glassnet: {err.args[0]}", file=sys.stderr)
        return 2
    kwargs: dict = {"seed": args.seed, "progress": False if args.no_progress else None}
    if args.epochs is not None:
        kwargs["epochs"] = args.epochs
    kwargs["out_dir"] = args.out or f"runs/{name}"
    recipe.run(**kwargs)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.out is None:
            args.out = "runs/demo"
        return _run_recipe("digits-mlp", args)
    if args.command == "train":
        return _run_recipe(args.recipe, args)
    if args.command == "list":
        from .recipes import RECIPES

        width = max(len(n) for n in RECIPES)
        for recipe in RECIPES.values():
            print(f"{recipe.name:<{width}}  {recipe.summary}")
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
