"""Forgiving CSV reading that reports by line number instead of raising."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .base import Problem


def read_csv_rows(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str], Problem | None]:
    """Rows as ``(line_number, {column: value})`` (header = line 1), the header, or an error.

    Handles a UTF-8 BOM, strips whitespace around column names, and turns unreadable files
    (missing, binary, not UTF-8, no header, a quoting error) into one error Problem naming the
    file and line. Parsing is strict: an unterminated quote is an error on the line it opens,
    never a silent drop of the rows after it.
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
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return [], [], Problem("error", "unreadable_csv", "empty file, no header", name, 1)
    except csv.Error as e:
        return [], [], _quote_problem(e, name, 1, reader.line_num)
    if reader.line_num != 1:
        return [], [], _quote_problem(None, name, 1, reader.line_num)
    header = [h.strip().lower() for h in header]
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    try:
        for rec in reader:
            start, line = line + 1, reader.line_num
            if line != start:  # a quoted value ran over a line break: a stray quote swallowed lines
                return [], header, _quote_problem(None, name, start, line)
            if not rec or all(not c.strip() for c in rec):
                continue
            rows.append((line, dict(zip(header, rec))))
    except csv.Error as e:
        return [], header, _quote_problem(e, name, line + 1, reader.line_num)
    return rows, header, None


def _quote_problem(err: csv.Error | None, name: str, start: int, end: int) -> Problem:
    """A quoting error as one file-level error naming the line it starts on (never a silent drop).

    Strict parsing: a value in these files never holds a line break, so a quote left open
    (``"abc`` with no closing quote) or one that closes lines later is refused as a whole file
    rather than read as one long value that swallows the rows after it.
    """
    if err is None or "end of data" in str(err) or end > start:
        what = (f"a quote opened on line {start} is not closed on that line"
                + (f" (it runs to line {end}, swallowing {end - start} line(s))" if end > start else ""))
    else:
        what = f"malformed quoting on line {start}: {err}"
    return Problem("error", "unreadable_csv", f"{what}; fix the quote (a value with a \" must be quoted and "
                   "the quote doubled: \"\"); nothing was read from this file", name, start)
