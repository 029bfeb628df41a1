"""The one mapping between emotion names and FER-2013 integer labels.

FER-2013's integer order (0 angry ... 6 neutral) is *not* the alphabetical order of the Kaggle image
folders, so every reader, model and page goes through this module and nothing else.
"""

from __future__ import annotations

# Index = FER-2013 integer label.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(EMOTIONS)

LABEL_OF: dict[str, int] = {name: i for i, name in enumerate(EMOTIONS)}

DISPLAY_NAMES: dict[str, str] = {name: name.capitalize() for name in EMOTIONS}

# One colour per emotion, used by every chart so a page's legend means the same everywhere.
COLOURS: dict[str, str] = {
    "angry": "#d62728",
    "disgust": "#8c564b",
    "fear": "#9467bd",
    "happy": "#ff7f0e",
    "sad": "#1f77b4",
    "surprise": "#e377c2",
    "neutral": "#7f7f7f",
}

# The three FER-2013 "Usage" values and the folder split each belongs to.
USAGES: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")


# Other names photo sets give their folders (e.g. "happiness", "surprised"); "contempt" has no FER class.
ALIASES: dict[str, str] = {
    "anger": "angry", "disgusted": "disgust", "fearful": "fear", "afraid": "fear", "happiness": "happy",
    "sadness": "sad", "surprised": "surprise",
}


def label_of(emotion: str) -> int:
    """FER-2013 integer label of an emotion name or a common alias (case-insensitive)."""
    name = emotion.strip().lower()
    try:
        return LABEL_OF[ALIASES.get(name, name)]
    except KeyError:
        raise ValueError(f"unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}") from None


def emotion_of(label: int) -> str:
    """Emotion name of a FER-2013 integer label."""
    if not 0 <= int(label) < NUM_CLASSES:
        raise ValueError(f"label {label} is outside 0..{NUM_CLASSES - 1}")
    return EMOTIONS[int(label)]
