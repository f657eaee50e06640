"""Forgiving CSV reading that reports by line number instead of raising."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .base import Problem


def read_csv_rows(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str], Problem | None]:
    """Rows as ``(line_number, {column: value})`` (header = line 1), the header, or an error.

    Handles a UTF-8 BOM, strips whitespace around column names, and turns unreadable files
    (missing, binary, not UTF-8, no header) into one error Problem naming the file.
    """
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as e:
        return [], [], Problem("error", "unreadable_csv", f"cannot read: {e.strerror or e}", name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [], Problem("error", "unreadable_csv", f"not UTF-8 text (byte {e.start})", name)
    if "\x00" in text:
        return [], [], Problem("error", "unreadable_csv", "binary file, not a CSV", name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [], Problem("error", "unreadable_csv", "empty file, no header", name, 1)
    except csv.Error as e:
        return [], [], Problem("error", "unreadable_csv", f"malformed CSV: {e}", name, 1)
    header = [h.strip().lower() for h in header]
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for rec in reader:
            line = reader.line_num
            if not rec or all(not c.strip() for c in rec):
                continue
            rows.append((line, dict(zip(header, rec))))
    except csv.Error as e:
        return rows, header, Problem("error", "unreadable_csv", f"malformed CSV: {e}", name, reader.line_num)
    return rows, header, None
