"""The `glassnet` command: train the demo network, run a recipe, list what there is.

glassnet demo                 train an MLP on real handwritten digits and show what it learned
glassnet train RECIPE         run one recipe (see `glassnet list`)
glassnet list                 the recipes, one line each
glassnet sample MODEL         write text with a trained character-level model
glassnet playground           watch a network learn in the browser (needs glassnet[playground])
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence

from . import __version__


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--epochs", type=int, default=None, help="number of epochs")
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="training time budget in minutes, for recipes that train against the clock "
        "(shakespeare-lstm, python-gru, forecast-lstm)",
    )
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
    train.add_argument(
        "--csv", default=None, help="forecast-lstm: a CSV file whose column to forecast"
    )
    train.add_argument(
        "--column", default=None, help="forecast-lstm: the name of the CSV column to forecast"
    )
    train.add_argument(
        "--latent",
        type=int,
        default=None,
        help="the generative recipes: how many numbers in the code or noise (2: the VAE draws "
        "its latent space as a map)",
    )

    sub.add_parser("list", help="list the recipes")

    sample = sub.add_parser(
        "sample",
        help="write text with a trained character-level model (saved by shakespeare-lstm, "
        "python-gru or shakespeare-gpt): glassnet sample runs/shakespeare-lstm --prompt ROMEO:",
        description="Load a character-level model (MODEL: the model.json a recipe wrote, the "
        "weights next to it, or their folder), feed it the prompt and let it write one "
        "character at a time, each drawn from its predicted probabilities. Lower temperatures "
        "write safer, more repetitive text; 0 (or --top-k 1) always takes the most likely "
        "character.",
    )
    sample.add_argument("model", metavar="MODEL", help="model.json, its weights, or their folder")
    sample.add_argument(
        "--prompt", default=None, help="text to start from (default: the recipe's prompt)"
    )
    sample.add_argument(
        "--temperature", type=float, default=0.8, help="sampling temperature (default: 0.8)"
    )
    sample.add_argument(
        "--top-k", type=int, default=None, help="sample among the K likeliest characters only"
    )
    sample.add_argument(
        "--length", type=int, default=500, help="characters to write (default: 500)"
    )
    sample.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")

    playground = sub.add_parser(
        "playground",
        help="watch a network learn in the browser, trained by glassnet (TensorFlow "
        "Playground's lessons and more); needs pip install 'glassnet[playground]'",
        description="Start the playground's web server and open its page. Each browser tab "
        "trains its own network on the server; every setting is in the page's URL.",
    )
    playground.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    playground.add_argument(
        "--port", type=int, default=8765, help="port (default: 8765; 0 picks a free one)"
    )
    playground.add_argument(
        "--no-browser", action="store_true", help="print the URL without opening a browser"
    )
    return parser


def _playground(args: argparse.Namespace) -> int:
    try:
        from .playground.app import serve

        return serve(args.host, args.port, open_browser=not args.no_browser)
    except ImportError as error:
        print(f"glassnet playground: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the port is taken, or the address is not this machine's
        print(
            f"glassnet playground: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 2


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
    # options only some recipes take: passed to those whose run() names them
    accepted = inspect.signature(recipe.run).parameters
    for option in ("minutes", "csv", "column", "latent"):
        value = getattr(args, option, None)
        if value is None:
            continue
        if option not in accepted:
            print(f"glassnet: recipe {name!r} does not take --{option}", file=sys.stderr)
            return 2
        kwargs[option] = value
    recipe.run(**kwargs)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from .data.datasets.text import Vocabulary
    from .io import load_model_and_document
    from .random import Generator

    try:
        model, document = load_model_and_document(args.model)
        extras = document["extras"]
        if not extras.get("vocab") or not callable(getattr(model, "generate", None)):
            raise ValueError(
                f"{args.model} holds a {document['class']}, not a character-level model saved "
                "with its vocabulary (as the shakespeare-lstm, python-gru and shakespeare-gpt "
                "recipes save theirs)"
            )
        vocab = Vocabulary(extras["vocab"])
        prompt = args.prompt if args.prompt is not None else extras.get("prompt") or "\n"
        prompt_ids = vocab.encode(prompt)
        if not prompt_ids.size:
            raise ValueError("the prompt is empty: give at least one character")
        new = model.generate(
            prompt_ids,
            args.length,
            temperature=args.temperature,
            top_k=args.top_k,
            generator=Generator(args.seed),
        )
    except (OSError, ValueError) as error:
        print(f"glassnet sample: {error}", file=sys.stderr)
        return 2
    print(prompt + vocab.decode(new))
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
    if args.command == "sample":
        return _sample(args)
    if args.command == "playground":
        return _playground(args)
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
