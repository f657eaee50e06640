"""Review: append-only decision events, today's labels derived from them, corrected-label export.

    from labelscope.review import open_review_store, export_labels
    store = open_review_store(settings)            # Workspace.review_db, or $LABELSCOPE_DB_URL
    store.flag(ids, reviewer="ana")
    store.relabel_person("000123", "gender", "female", reviewer="ana", manifest=m)
    export_labels(m, store, "out/")
"""
from __future__ import annotations

from typing import Any

from ..dataset import Manifest
from .errors import ReviewError, StaleLabelError, StoreUnavailable
from .export import ExportResult, export_labels
from .fields import ACTIONS, STATE_FIELDS
from .filters import REVIEW_STATES, filter_choices, filter_labels
from .fixes import apply_fixes, read_fixes
from .labels import apply_events, label_changes
from .person import group_ids, partial_persons, person_attributes, person_rows, with_whole_persons
from .store import Change, ReviewStore, describe_undo, open_review_store
from .tree import TreeResult, export_tree, inconsistent_persons


def current_labels(manifest: Manifest, store: Any) -> Manifest:
    """Today's labels of ``manifest``; ``store`` is a ReviewStore or anything open_review_store takes."""
    if not isinstance(store, ReviewStore):
        store = open_review_store(store)
    return store.current_labels(manifest)


__all__ = ["ACTIONS", "Change", "ExportResult", "REVIEW_STATES", "ReviewError", "ReviewStore", "STATE_FIELDS",
           "StaleLabelError", "StoreUnavailable", "TreeResult", "apply_events", "apply_fixes", "current_labels", "describe_undo", "export_labels",
           "export_tree", "filter_choices", "filter_labels", "group_ids", "inconsistent_persons", "label_changes", "open_review_store",
           "partial_persons", "person_attributes", "person_rows", "read_fixes", "with_whole_persons"]
