"""Which fields a reviewer may change, and what values they accept (validated on entry).

Every value is stored as text: ``age`` as a decimal integer, states as ``"0"``/``"1"``.
"""
from __future__ import annotations

from typing import Any

from ..dataset import Manifest
from .errors import ReviewError

# state field -> (action when set to 1, action when set to 0)
STATE_FIELDS = {"flagged": ("flag", "unflag"), "excluded": ("exclude", "include"),
                "confirmed": ("confirm", "unconfirm")}
ACTIONS = ("flag", "unflag", "relabel", "confirm", "unconfirm", "exclude", "include", "undo")
MAX_TEXT = 200
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}


def check_reviewer(reviewer: Any) -> str:
    name = str(reviewer or "").strip()
    if not name:
        raise ReviewError("a reviewer name is required to record a decision (it goes into the audit log)")
    if len(name) > MAX_TEXT or any(ord(c) < 32 for c in name):
        raise ReviewError(f"reviewer name {name[:40]!r} is too long or holds control characters")
    return name


def check_note(note: Any) -> str:
    text = str(note or "")
    if len(text) > 10 * MAX_TEXT:
        raise ReviewError(f"note is {len(text)} characters long; keep it under {10 * MAX_TEXT}")
    return text


def label_fields(manifest: Manifest) -> list[str]:
    return list(manifest.fields)


def action_for(field: str, value: str) -> str:
    if field in STATE_FIELDS:
        on, off = STATE_FIELDS[field]
        return on if value == "1" else off
    return "relabel"


def normalize(manifest: Manifest, field: str, value: Any) -> str:
    """``value`` as stored text for ``field``; raise ReviewError naming what is accepted."""
    if field in STATE_FIELDS:
        s = str(value).strip().lower()
        if s in _TRUE:
            return "1"
        if s in _FALSE:
            return "0"
        raise ReviewError(f"{field} takes 1 or 0 (true/false), not {value!r}")
    fields = label_fields(manifest)
    schema = manifest.schema
    if field not in fields:
        src = [f.field for f in schema.factors]
        hint = f" (label is derived from {', '.join(src[:-1])} and {src[-1]}: change one of those)" if (
            field in schema.derived) else ""
        raise ReviewError(f"unknown field {field!r}; a reviewer may change {', '.join(fields)}{hint}")
    spec = schema.field(field)
    try:
        return spec.parse(value, manifest.classes if spec.kind == "class" else None)
    except ValueError as e:
        raise ReviewError(str(e)) from None


def base_value(manifest: Manifest, row: int, field: str) -> str:
    """The dataset's own value of ``field`` at ``row`` (states start at ``"0"``)."""
    if field in STATE_FIELDS:
        return "0"
    v = manifest.df[field].iat[row]
    if manifest.schema.is_int(field):
        return str(int(v))
    return "" if v is None else str(v)
