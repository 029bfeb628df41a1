"""Saving a trained landmark model: weights (.keras), the sidecar model_store reads (.json) and a model card
(.md), through model_store.write_model_files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faceemo.keypoints import KEYPOINTS
from faceemo.model_store import write_model_files


def _table(reports: dict[str, dict[str, float]]) -> list[str]:
    names = list(reports)
    lines = ["| keypoint | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for key in ("overall", *KEYPOINTS):
        cells = [f"{reports[n][key]:.3f}" for n in names]
        label = f"**{key}**" if key == "overall" else key
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| faces | " + " | ".join(str(reports[n]["n"]) for n in names) + " |")
    return lines


def model_card(meta: dict[str, Any], reports: dict[str, dict[str, float]], notes: list[str]) -> str:
    """Markdown model card: what, data, split, figures per keypoint, training, command."""
    lines = [
        f"# {meta['model_id']} — 15 facial keypoints",
        "",
        "- Task: landmarks (15 Kaggle keypoints, x,y in the 96x96 frame, model output order "
        "`faceemo.keypoints.KEYPOINTS`). Input float32 (N, 96, 96, 1) grey levels 0..255.",
        f"- Architecture: `{meta['architecture']}`, {meta['params']:,} parameters, "
        f"{meta.get('file_bytes', 0) / 1e6:.1f} MB (float32 weights).",
        f"- Data: {meta['trained_on']}.",
        f"- Split: {meta['split']}",
        f"- Selected on: {meta['selected_on']} (best epoch {meta['best_epoch']} of {meta['epochs']}).",
        f"- Training: {meta['train_seconds'] / 60:.1f} min on {meta['device']} (Keras {meta['keras']}, "
        f"backend {meta['backend']}), {meta['created_at']}.",
        f"- Command: `{meta['command']}`",
        "",
        "## RMSE in pixels of the 96x96 frame",
        "",
        "Overall = root mean square over every x and y (Kaggle's definition); per keypoint over its x and y.",
        "",
        *_table(reports),
        "",
    ]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(lines)


def without_optimizer(model):
    """An uncompiled copy with the same weights: the committed file holds no optimizer state (a third of
    the size) and nothing a caller could mistake for a training setup."""
    import keras

    if getattr(model, "optimizer", None) is None:  # an uncompiled model (e.g. the flip-TTA wrapper)
        return model
    clean = keras.Model.from_config(model.get_config())
    clean.set_weights(model.get_weights())
    return clean


def save_model(
    model, out_dir: Path, meta: dict[str, Any], reports: dict[str, dict[str, float]], notes: list[str]
) -> Path:
    """Write <id>.keras, <id>.json and <id>.md into out_dir (model_store's one save path); the .keras path."""
    return write_model_files(
        out_dir, meta["model_id"], without_optimizer(model), dict(meta),
        lambda full: model_card(full, reports, notes), indent=2,
    )
