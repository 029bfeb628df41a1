"""faceemo: facial emotion recognition analytics (FER-2013, Keras 3, DuckDB, Streamlit).

A thin facade: the task modules do the work; this package imports no Streamlit and no TensorFlow
at import time.
"""

from faceemo.labels import EMOTIONS, emotion_of, label_of

__all__ = ["EMOTIONS", "emotion_of", "label_of"]
__version__ = "0.1.0"
