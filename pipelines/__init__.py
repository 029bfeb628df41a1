"""Command-line pipeline steps over the faceemo library: `python -m pipelines STEP --help`."""
