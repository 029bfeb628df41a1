"""Model dtypes for storage: save weights as float16 (half the file), compute in float32 after loading.

A Keras model's dtype policy lives in each layer's config, so a model is re-dtyped by rewriting the
policies in its config, rebuilding it, and casting its weights. Generic (works for any functional or
sequential model, nested ones included); the input layer stays float32 so the I/O contract holds.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

_POLICY_CLASSES = {"DTypePolicy", "FloatDTypePolicy"}


def _policy_config(name: str) -> dict[str, Any]:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def _rewrite(node: Any, policy: str, keep_float32: set[str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "dtype" and isinstance(value, dict) and value.get("class_name") in _POLICY_CLASSES:
                out[key] = _policy_config(policy)
            else:
                out[key] = _rewrite(value, policy, keep_float32)
        if out.get("class_name") == "InputLayer" or (
            isinstance(out.get("config"), dict) and out["config"].get("name") in keep_float32
        ):
            cfg = out.get("config", {})
            if isinstance(cfg.get("dtype"), dict):
                cfg["dtype"] = _policy_config("float32")
            elif "dtype" in cfg and cfg["dtype"] not in (None,):
                cfg["dtype"] = "float32"
        return out
    if isinstance(node, list):
        return [_rewrite(v, policy, keep_float32) for v in node]
    return node


def rebuild_with_dtype(
    cls: type,
    config: dict[str, Any],
    weights: list[np.ndarray],
    policy: str,
    keep_float32: tuple[str, ...] = ("probabilities",),
) -> keras.Model:
    """A new model of `cls` from `config` with every layer under `policy`, holding `weights` cast to
    that policy's variable dtype (layers named in `keep_float32` stay float32)."""
    model = cls.from_config(_rewrite(config, policy, set(keep_float32)))
    model.set_weights([np.asarray(w).astype(v.dtype) for w, v in zip(weights, model.weights, strict=True)])
    return model


def with_dtype(model: keras.Model, policy: str) -> keras.Model:
    """`model` rebuilt under `policy` ('float32' to compute in full precision, 'float16' to store)."""
    return rebuild_with_dtype(type(model), model.get_config(), model.get_weights(), policy)


def has_float16_weights(model: keras.Model) -> bool:
    return any(str(w.dtype) == "float16" for w in model.weights)
