"""faceemo: facial emotion recognition analytics (FER-2013, Keras 3, DuckDB, Streamlit).

A thin facade: the task modules do the work; this package imports no Streamlit and no TensorFlow
at import time. `faceemo.analyze` (and `FaceResult`, `load_models`) are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from faceemo.labels import EMOTIONS, emotion_of, label_of

__all__ = ["EMOTIONS", "FaceResult", "analyze", "decode_image", "emotion_of", "label_of", "load_models"]
__version__ = "0.1.0"

# Public names served lazily (PEP 562), so `import faceemo` stays light: name -> module.
_LAZY = {
    "analyze": "faceemo.inference",
    "load_models": "faceemo.inference",
    "FaceResult": "faceemo.inference",
    "decode_image": "faceemo.images",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'faceemo' has no attribute {name!r}")
