"""The `glassnet` command: train the demo network, run a recipe, list what there is.

glassnet demo                 train an MLP on real handwritten digits and show what it learned
glassnet train RECIPE         run one recipe (see `glassnet list`)
glassnet train RECIPE --help  that recipe's options and their defaults
glassnet list                 the recipes, one line each
glassnet runs [FOLDER]        the run folders under runs/ with their best metrics
glassnet sample MODEL         write text with a trained character-level model
glassnet predict MODEL INPUT  a trained model's answer for one input (a recording, a sentence)
glassnet export RUN --onnx F  write a saved model as an ONNX file (needs glassnet[onnx])
glassnet playground           watch a network learn in the browser (needs glassnet[playground])
glassnet launch -n N -- train RECIPE   train on N ranks with MPI (needs glassnet[distributed])
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__

TRAIN_USAGE = "glassnet train RECIPE [options]   (glassnet train RECIPE --help: its options)"


def build_parser() -> argparse.ArgumentParser:

    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="glassnet: neural networks you can see inside. Small, readable, PyTorch names.",
    )
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser(
        "demo",
        help="train an MLP on the 1,797 real 8x8 handwritten digits (offline, about 10 s); prints "
        "test accuracy, confusion matrix and parameter count; writes runs/demo/ (options: "
        "glassnet demo --help)",
    )
    sub.add_parser(
        "train",
        help="run a recipe: data + model + training + what it shows, written to runs/RECIPE/ "
        "(glassnet train --help lists them; glassnet train RECIPE --help shows its options)",
    )
    runs = sub.add_parser(
        "runs",
        help="the run folders (default: runs/), one line each: when, how far, best metrics",
        description="List the run folders under FOLDER, one line each: its name, when it last "
        "changed, the epoch and step it reached and the best value of each metric over its "
        "epochs (lowest loss or error, highest accuracy), read from its metrics.jsonl.",
    )
    runs.add_argument("folder", nargs="?", default="runs", help="default: runs")
    runs.add_argument("--json", action="store_true", help="print JSON, for scripts")
    sub.add_parser("list", help="list the recipes")
    sub.add_parser(
        "launch",
        help="run a glassnet command on N ranks with MPI's mpiexec (data-parallel training): "
        "glassnet launch -n 4 [--hosts a,b | --hostfile FILE] -- train mnist-cnn",
    )

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

    predict = sub.add_parser(
        "predict",
        help="a trained model's answer for one input: glassnet predict runs/fsdd-cnn 7.wav, "
        'glassnet predict runs/sentiment "what a lovely film"',
        description="Load a model a recipe saved (MODEL: its run folder, its model.json or the "
        "weights beside it) and print its answer for INPUT, with the probabilities and what "
        "decided it. What INPUT is depends on the model: a recording for a spoken-digit model, a "
        "sentence for a sentiment model.",
    )
    predict.add_argument("model", metavar="MODEL", help="run folder, model.json or its weights")
    predict.add_argument("input", metavar="INPUT", help="what the model answers for")

    export = sub.add_parser(
        "export",
        help="write a recipe's saved model as an ONNX file for ONNX Runtime and other runtimes: "
        "glassnet export runs/digits-cnn --onnx digits.onnx (needs glassnet[onnx])",
        description="Load a saved model (RUN_OR_WEIGHTS: a run folder, its model.json or the "
        "weights beside it) and write it as an ONNX graph, the batch (and a text model's "
        "length) left dynamic. A VAE exports its decoder, a GAN its generator.",
    )
    export.add_argument("model", metavar="RUN_OR_WEIGHTS", help="run folder, model.json or weights")
    export.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    export.add_argument("--opset", type=int, default=None, help="ONNX opset (default: 17)")
    export.add_argument(
        "--input-shape",
        default=None,
        metavar="C,H,W",
        help="the input's shape without the batch, where the model's document does not say it",
    )

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


def _train_help() -> str:
    from .recipes import RECIPES
    from .recipes.options import COMMON

    width = max(len(n) for n in RECIPES)
    recipes = "\n".join(f"  {r.name:<{width}}  {r.summary}" for r in RECIPES.values())
    common = ", ".join(o.cli for o in COMMON)
    return (
        f"usage: {TRAIN_USAGE}\n\nRun one recipe: its data, model and training, and what the "
        f"result shows, written to runs/RECIPE/.\n\nrecipes:\n{recipes}\n\ncommon options "
        f"(each where the recipe takes it): {common}\n"
    )


def _train(argv: Sequence[str], prog: str = "glassnet train", name: str | None = None) -> int:
    """`glassnet train RECIPE [options]` (or `glassnet demo [options]`, `name` given): every
    option is read and checked first, and a bad one is a one-line message with exit code 2,
    before the recipe loads any data."""
    from .recipes import get_recipe
    from .recipes.options import OptionError, read
    from .train.checkpoint import CheckpointManager

    argv = list(argv)
    if name is None:
        if argv[:1] in (["-h"], ["--help"]):
            print(_train_help(), end="")
            return 0
        if not argv or argv[0].startswith("-"):
            print(f"{prog}: give a recipe first: {TRAIN_USAGE}", file=sys.stderr)
            return 2
        name, argv = argv[0], argv[1:]
        prog = f"{prog} {name}"
    try:
        recipe = get_recipe(name)
    except KeyError as err:
        print(f"glassnet: {err.args[0]}", file=sys.stderr)
        return 2
    out_default = "runs/demo" if prog == "glassnet demo" else f"runs/{name}"
    try:
        kwargs = read(recipe, argv, prog, out_default)
    except OptionError as error:
        print(error, file=sys.stderr)
        return 2
    except SystemExit as done:  # --help
        return int(done.code or 0)
    if kwargs.get("resume"):
        checkpoints = os.path.join(kwargs["out_dir"], "checkpoints")
        if not CheckpointManager(checkpoints).paths():
            print(
                f"{prog} --resume: no checkpoint in {checkpoints} (run without --resume to "
                "start fresh)",
                file=sys.stderr,
            )
            return 2
    from .distributed import launched_world_size

    if launched_world_size() > 1:
        return _train_distributed(recipe, kwargs)
    recipe.run(**kwargs)
    return 0


def _train_distributed(recipe: object, kwargs: dict) -> int:
    """A recipe as one rank of `mpiexec -n N glassnet train RECIPE`: the Trainer shares the
    work among the ranks; only rank 0 prints. No `finally`: a rank that fails must reach the
    abort hook at once, not wait for the others in destroy_process_group's barrier."""
    import contextlib

    from . import distributed

    distributed.init_process_group()
    if distributed.get_rank() == 0:
        recipe.run(**kwargs)
    else:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            recipe.run(**kwargs)
    distributed.destroy_process_group()
    return 0


def _launch(argv: Sequence[str]) -> int:
    """`glassnet launch -n N [--hosts H | --hostfile F] -- COMMAND...`"""
    from .distributed.launch import launch

    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(
        prog="glassnet launch",
        description="Run `glassnet COMMAND` on N ranks with the mpiexec beside this Python (or "
        "on PATH); the Trainer then shares every batch among them.",
        epilog="example: glassnet launch -n 4 -- train mnist-cnn --epochs 2",
    )
    parser.add_argument("-n", type=int, required=True, help="how many ranks")
    parser.add_argument("--hosts", help="comma-separated machines to start them on")
    parser.add_argument("--hostfile", help="a file of machines (one per line, host:slots)")
    args = parser.parse_args(argv[:split])
    try:
        return launch(args.n, argv[split + 1 :], args.hosts, args.hostfile)
    except (ValueError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2


def _runs(args: argparse.Namespace) -> int:
    from .recipes.runs import as_json, summarize_all, table

    if not os.path.isdir(args.folder):
        print(
            f"glassnet runs: no folder {args.folder!r} (a recipe writes its run there: "
            "glassnet train RECIPE)",
            file=sys.stderr,
        )
        return 2
    runs = summarize_all(args.folder)
    if args.json:
        print(as_json(runs))
    elif runs:
        print(table(runs))
    else:
        print(f"no runs in {args.folder}")
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


def _predict(args: argparse.Namespace) -> int:
    from .recipes.predict import predict

    try:
        predict(args.model, args.input)
    except (OSError, ValueError) as error:
        print(f"glassnet predict: {error}", file=sys.stderr)
        return 2
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        from .onnx.saved import export_saved

        shape = None
        if args.input_shape:
            shape = [int(n) for n in args.input_shape.replace("x", ",").split(",") if n.strip()]
        path, plan = export_saved(args.model, args.onnx, args.opset, shape)
    except (ImportError, OSError, ValueError, RuntimeError) as error:
        print(f"glassnet export: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}: {plan.describe()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # a recipe's options depend on the recipe, so train and demo build their own parsers
    if argv[:1] == ["train"]:
        return _train(argv[1:])
    if argv[:1] == ["demo"]:
        return _train(argv[1:], prog="glassnet demo", name="digits-mlp")
    if argv[:1] == ["launch"]:
        return _launch(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "runs":
        return _runs(args)
    if args.command == "sample":
        return _sample(args)
    if args.command == "predict":
        return _predict(args)
    if args.command == "playground":
        return _playground(args)
    if args.command == "export":
        return _export(args)
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
