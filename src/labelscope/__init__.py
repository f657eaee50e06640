"""labelscope: look into an image-classification dataset, find its wrong labels, fix them
with people in the loop, and train on the fixed labels.

The public façade is flat and imports heavy internals lazily (``import labelscope`` is cheap)::

    import labelscope as ls
    m = ls.load_dataset("data/demo")
    ls.scan_dataset("data/demo", ".labelscope")
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> "module:attribute"; a later stage adds its entry point here.
_FACADE = {
    "Settings": "labelscope.config:Settings",
    "Workspace": "labelscope.workspace:Workspace",
    "Manifest": "labelscope.dataset:Manifest",
    "Problem": "labelscope.dataset:Problem",
    "DatasetError": "labelscope.dataset:DatasetError",
    "load_dataset": "labelscope.dataset:load_dataset",
    "check_dataset": "labelscope.dataset:check_dataset",
    "make_demo": "labelscope.demo:make_demo",
    "demo_true_labels": "labelscope.demo:true_labels",
    "scan_dataset": "labelscope.scan:scan_dataset",
    "load_features": "labelscope.scan:load_features",
    "load_thumbs": "labelscope.scan:load_thumbs",
    "compute_features": "labelscope.scan:compute_features",
    "ScanSummary": "labelscope.scan:ScanSummary",
    "compute_embeddings": "labelscope.embed:compute_embeddings",
    "load_embeddings": "labelscope.embed:load_embeddings",
    "project": "labelscope.embed:project",
    "open_review_store": "labelscope.review:open_review_store",
    "current_labels": "labelscope.review:current_labels",
    "export_labels": "labelscope.review:export_labels",
    "export_tree": "labelscope.review:export_tree",
    "run_training": "labelscope.train.run:train",  # "train" is the subpackage
    "TrainConfig": "labelscope.train.run:TrainConfig",
    "list_runs": "labelscope.train.registry:list_runs",
    "load_predictions": "labelscope.train.registry:load_predictions",
    "import_predictions": "labelscope.train.registry:import_predictions",
    "find_issues": "labelscope.issues:find_issues",
    "compute_suspects": "labelscope.issues.pipeline:compute_suspects",
    "load_suspects": "labelscope.issues:load_suspects",
    "feeding_report": "labelscope.feeding:feeding_report",
    "detect_faces": "labelscope.faces:detect_faces",
    "load_faces": "labelscope.faces:load_faces",
    "crop_box_stats": "labelscope.faces:crop_box_stats",
    "export_boxes": "labelscope.faces:export_boxes",
    "quality_flags": "labelscope.eda:quality_flags",
    "find_duplicates": "labelscope.eda:find_duplicates",
    "group_histograms": "labelscope.eda.colours:group_histograms",
    "colour_digest": "labelscope.eda.colours:colour_digest",
}


def __getattr__(name: str) -> Any:
    target = _FACADE.get(name)
    if target is None:
        raise AttributeError(f"module 'labelscope' has no attribute {name!r}")
    mod, attr = target.split(":")
    return getattr(importlib.import_module(mod), attr)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_FACADE))
