"""`python -m pipelines STEP [options]` — one module per step, each with `add_arguments` and `run`.

Step modules import heavy libraries (TensorFlow, OpenCV) inside `run`, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from faceemo.errors import FaceemoError

# step name -> module that implements it
STEPS: dict[str, str] = {
    "ingest": "pipelines.ingest",
    "export-pack": "pipelines.export_pack",
    "train-emotion": "pipelines.train_emotion",
    "ensemble-emotion": "pipelines.ensemble_emotion",
    "evaluate": "pipelines.evaluate",
    "train-landmarks": "pipelines.train_landmarks",
    "landmarks": "pipelines.landmarks",
    "predict": "pipelines.predict",
    "attach-results": "pipelines.attach_results",
}


def _description(module, name: str) -> str:
    """What `STEP --help` says: the first paragraph of the step's docstring (the rest is for developers)."""
    doc = (module.__doc__ or name).strip()
    return " ".join(doc.split("\n\n")[0].split())


def _summary(module, name: str) -> str:
    """The one line `python -m pipelines --help` lists for the step."""
    return (module.__doc__ or name).strip().splitlines()[0]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    for name, module_name in STEPS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a step not built yet
        step = sub.add_parser(name, help=_summary(module, name), description=_description(module, name))
        module.add_arguments(step)
        step.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except FaceemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the warehouse keeps its last good state", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
