"""What a trained model leaves beside its weights: the JSON sidecar (read by faceemo.model_store) and
the markdown model card; plus a description of the machine it ran on."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from faceemo.files import atomic_write_json
from faceemo.labels import EMOTIONS
from faceemo.model_store import write_model_files  # noqa: F401  (the train steps import it here)


def device_description() -> str:
    """'NVIDIA H100 80GB HBM3 x1' / 'cpu: Intel(R) Xeon(R) ... (2 cores)' for the current backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = jax.devices()
        if devices[0].platform != "cpu":
            return f"{devices[0].device_kind} x{len(devices)}"
    elif backend == "tensorflow":
        from faceemo.emotion import tf_engine

        gpus = tf_engine.gpu_names()
        if gpus:
            return f"{gpus[0]} x{len(gpus)}"
    return f"cpu: {_cpu_model()} ({os.cpu_count()} cores)"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_sidecar(path: Path, meta: dict[str, Any]) -> Path:
    return atomic_write_json(path, meta)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def _augmentation(strength: float) -> str:
    from faceemo.emotion.augment import Augmentation

    if strength <= 0:
        return "no augmentation"
    return f"augmentation (strength {strength:g}): {Augmentation().scaled(strength).describe()}"


def _accuracy_rows(metrics: dict[str, Any], mode: str) -> list[str]:
    roles = {"PublicTest": "selection", "PrivateTest": "report (held out)", "Training": "fit"}
    return [
        f"| {usage} | {roles.get(usage, '')} | {mode} | {_pct(m.get('accuracy'))} "
        f"| {_pct(m.get('macro_f1'))} | {int(m.get('n', 0)):,} |"
        for usage, m in metrics.items()
    ]


def _recipe(config: dict[str, Any]) -> str:
    schedule = config.get("schedule") or "plateau"
    lr = config.get("learning_rate")
    if schedule == "cosine":
        schedule_text = (
            f"linear warm-up from {lr / 10:g} to {lr:g} over {config.get('warmup_epochs', 0):g} epoch(s), "
            "then cosine decay to 1 % over the run"
        )
    else:
        schedule_text = f"lr {lr:g}, halved after {config.get('lr_patience', 5)} epochs without progress"
    decay = config.get("weight_decay")
    return (
        f"- optimizer {config.get('optimizer')}"
        + (f" (decoupled weight decay {decay:g})" if decay else "")
        + f"; {schedule_text}\n"
        f"- batch {config.get('batch_size')}, label smoothing {config.get('label_smoothing')}, class weights "
        f"{'square-root balanced' if config.get('class_weights') else 'none'}, XLA "
        f"{config.get('xla', 'no')}, mixed precision {config.get('mixed_precision')}, distribute "
        f"{config.get('distribute')}\n"
        f"- {_augmentation(float(config.get('augment') or 0))}"
        + (
            f"\n- distilled: each target is {1 - config.get('teacher_weight', 0.5):g} x the label + "
            f"{config.get('teacher_weight', 0.5):g} x the probabilities of `{config['teacher']}` on that "
            "Training face"
            if config.get("teacher")
            else ""
        )
    )


def _cycles(start: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The earlier training cycles a warm-started run grew from, oldest first."""
    chain = []
    while start:
        chain.append(start)
        start = start.get("init_from")
    return chain[::-1]


def _start_rows(start: dict[str, Any] | None) -> list[str]:
    """A warm-started run: what it started from, and the epochs and wall time of every earlier cycle."""
    cycles = _cycles(start)
    if not cycles:
        return []
    rows = [f"| starts from | the weights of `{start.get('model_id') or start.get('path')}`"]
    if all(c.get("epochs") for c in cycles):
        epochs = sum(c["epochs"] for c in cycles)
        minutes = sum(c.get("train_seconds") or 0 for c in cycles) / 60
        plural = "s" if len(cycles) > 1 else ""
        rows[0] += f" ({len(cycles)} earlier cycle{plural}: {epochs} epochs, {minutes:.1f} min)"
    rows[0] += "; their commands come first below |"
    return rows


def _start_commands(start: dict[str, Any] | None) -> list[str]:
    cycles = [c for c in _cycles(start) if c.get("command")]
    if not cycles:
        return []
    lines = []
    for number, cycle in enumerate(cycles, 1):
        lines += [f"# cycle {number} ({cycle.get('model_id')})", cycle["command"]]
    return [*lines, f"# this cycle (cycle {len(cycles) + 1})"]


def _curve(history: list[dict[str, Any]]) -> list[str]:
    if not history:
        return []
    lines = [
        "",
        "## Training curve",
        "",
        "| epoch | lr | loss | train acc | PublicTest acc | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for row in history:
        lines.append(
            f"| {row.get('epoch')} | {row.get('lr', 0):.2e} | {row.get('loss', 0):.3f} | "
            f"{_pct(row.get('accuracy'))} | {_pct(row.get('val_accuracy'))} | {row.get('seconds', 0):.0f} |"
        )
    return lines


def _io_rows(meta: dict[str, Any]) -> list[str]:
    return [
        f"| parameters | {meta['params']:,} |",
        f"| weights stored as | {meta.get('weights_dtype', 'float32')} "
        f"({meta.get('file_bytes', 0) / 2**20:.1f} MiB) |",
        "| input | float32 (N, 48, 48, 1) in 0..255; preprocessing inside the model: "
        f"{meta.get('preprocessing')} |",
        "| output | (N, 7) softmax in FER-2013 label order: " + ", ".join(EMOTIONS) + " |",
    ]


def _accuracy_section(meta: dict[str, Any]) -> list[str]:
    """Accuracy plain and with TTA per split, per-class figures, the float16 check."""
    metrics = meta.get("metrics", {})
    lines = [
        "## Accuracy",
        "",
        "| split | role | mode | accuracy | macro-F1 | faces |",
        "|---|---|---|---|---|---|",
        *_accuracy_rows(metrics, "plain"),
        *_accuracy_rows(meta.get("metrics_tta") or {}, "10-crop TTA"),
        "",
        "TTA: the mean of 10 views, the face and its four 4-px corner shifts, each mirrored.",
    ]
    report = metrics.get("PrivateTest") or metrics.get("PublicTest")
    if report:
        which = "PrivateTest" if "PrivateTest" in metrics else "PublicTest"
        lines += [
            "",
            f"Per-class recall / precision on {which}:",
            "",
            "| emotion | recall | precision | F1 |",
            "|---|---|---|---|",
        ]
        for e in EMOTIONS:
            lines.append(
                f"| {e} | {_pct(report.get(f'recall_{e}'))} | {_pct(report.get(f'precision_{e}'))} "
                f"| {_pct(report.get(f'f1_{e}'))} |"
            )
    if meta.get("float16_check"):
        chk = meta["float16_check"]
        lines += [
            "",
            f"float16 storage check on PublicTest: float32 accuracy {_pct(chk['float32'])}, "
            f"float16 {_pct(chk['float16'])}, {chk['changed']} of {chk['n']} predictions changed.",
        ]
    return lines


def model_card(meta: dict[str, Any]) -> str:
    """The markdown card of a trained emotion model, from its sidecar metadata."""
    lines = [
        f"# {meta['model_id']}",
        "",
        f"Emotion classifier (FER-2013, 7 classes), architecture `{meta['architecture']}`"
        + (f" with options `{json.dumps(meta.get('model_options'))}`" if meta.get("model_options") else "")
        + ".",
        "",
        "| | |",
        "|---|---|",
        *_io_rows(meta),
        f"| data | {meta.get('trained_on')} |",
        f"| selected on | {meta.get('selected_on')} (best epoch {meta.get('best_epoch')}) |",
        f"| epochs | {meta.get('epochs')} (stopped by: {meta.get('stopped')}) |",
        f"| wall time | {meta.get('train_seconds', 0) / 60:.1f} min |",
        *_start_rows(meta.get("init_from")),
        f"| device | {meta.get('device')} ({meta.get('replicas', 1)} replica(s)) |",
        f"| backend | keras {meta.get('keras_version')} on {meta.get('backend')} |",
        f"| date | {meta.get('created_at')} UTC |",
        "",
        *_accuracy_section(meta),
    ]
    throughput = meta.get("throughput") or {}
    lines += [
        "",
        "## Training",
        "",
        _recipe(meta["config"]),
        f"- training faces: {meta.get('data', {}).get('train_faces')} "
        f"(dropped {meta.get('data', {}).get('dropped_blank', 0)} blank frames and "
        f"{meta.get('data', {}).get('dropped_test_duplicates', 0)} faces byte-identical to a test face)",
    ]
    if throughput:
        lines.append(
            f"- throughput on this device: input pipeline {throughput.get('input_images_per_s', 0):,.0f} "
            f"faces/s alone, training {throughput.get('train_images_per_s', 0):,.0f} faces/s (median epoch)"
        )
    lines += [
        "- protocol: fit on Training, select (checkpoint, lr plateaus, early stop) on PublicTest, "
        "report PrivateTest",
        "",
        "Command (add `--resume` to continue an interrupted run from its last epoch checkpoint):",
        "",
        "```",
        *_start_commands(meta.get("init_from")),
        meta.get("command", ""),
        "```",
        *_curve(meta.get("history") or []),
        "",
    ]
    return "\n".join(lines)


def _selection_section(selection: dict[str, Any] | None) -> list[str]:
    """How `ensemble-emotion --select` chose the members: each candidate and the best combinations."""
    if not selection:
        return []
    lines = [
        "## Selection",
        "",
        f"The mean of two to {selection['max_members']} of these candidates with the best plain PublicTest "
        f"accuracy ({selection['combinations']:,} combinations; fewer members on a tie):",
        "",
        "| candidate | PublicTest |",
        "|---|---|",
        *(f"| `{c['model_id']}` | {_pct(c['public_accuracy'])} |" for c in selection["candidates"]),
        "",
        "| best combinations | PublicTest |",
        "|---|---|",
        *(
            f"| {' + '.join(f'`{m}`' for m in r['members'])} | {_pct(r['public_accuracy'])} |"
            for r in selection["ranking"]
        ),
        "",
    ]
    return lines


def ensemble_card(meta: dict[str, Any]) -> str:
    """The markdown card of an ensemble (`python -m pipelines ensemble-emotion`)."""
    members = meta["members"]
    lines = [
        f"# {meta['model_id']}",
        "",
        f"Emotion classifier (FER-2013, 7 classes): the mean of the probabilities of {len(members)} "
        "trained models, stored and used as one model.",
        "",
        "| | |",
        "|---|---|",
        "| members | " + ", ".join(f"`{m['model_id']}`" for m in members) + " (their cards say how each "
        "was trained) |",
        *_io_rows(meta),
        f"| data | {meta.get('trained_on')} |",
        f"| selected on | {meta.get('selected_on')} |",
        # each member's own run only, as its README row counts it; its earlier cycles are on its card
        f"| training wall time | {meta.get('train_seconds', 0) / 60:.1f} min, the members' own runs together "
        "(earlier cycles: their cards) |",
        f"| date | {meta.get('created_at')} UTC |",
        "",
        *_accuracy_section(meta),
        "",
        *_selection_section(meta.get("selection")),
        "## Members",
        "",
        "| model | epochs | PublicTest | PublicTest TTA | PrivateTest | PrivateTest TTA |",
        "|---|---|---|---|---|---|",
    ]
    for m in members:
        plain, tta = m.get("metrics") or {}, m.get("metrics_tta") or {}
        lines.append(
            f"| `{m['model_id']}` | {m.get('epochs')} "
            + "".join(
                f"| {_pct((figures.get(usage) or {}).get('accuracy'))} "
                for usage in ("PublicTest", "PrivateTest")
                for figures in (plain, tta)
            )
            + "|"
        )
    lines += ["", "Command:", "", "```", meta.get("command", ""), "```", ""]
    return "\n".join(lines)
