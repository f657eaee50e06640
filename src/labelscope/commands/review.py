"""``labelscope review apply|log``: decisions from the command line.

    labelscope review apply data/demo fixes.csv --reviewer ana     # all rows or none
    labelscope review log data/demo [--json]
    labelscope review backup data/demo backups/review.sqlite    # safe while the app runs
"""
from __future__ import annotations

import argparse

from .common import add_dataset_args, fail, print_json, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="apply a CSV of label fixes, or print the review log")
    rsub = p.add_subparsers(dest="review_command", metavar="ACTION")
    a = rsub.add_parser("apply", help="apply a CSV of fixes as one action (all rows or none)",
                        description="FIXES.csv columns: image_id or person, field, new; optional old "
                                    "(refused when the label moved since), note.")
    add_dataset_args(a)
    a.add_argument("fixes", metavar="FIXES.csv", help="CSV of fixes")
    a.add_argument("--reviewer", required=True, help="name recorded with every event")
    a.set_defaults(func=run_apply)
    lg = rsub.add_parser("log", help="print every review event in order")
    add_dataset_args(lg)
    lg.add_argument("--json", action="store_true", help="print the events as JSON")
    lg.add_argument("--limit", type=int, default=0, help="only the last N events")
    lg.set_defaults(func=run_log)
    bk = rsub.add_parser("backup", help="copy the review database safely, even while the app runs",
                         description="Uses SQLite's online backup API: the copy holds every decision, including "
                                     "those still in review.sqlite-wal (a plain cp of review.sqlite misses them).")
    add_dataset_args(bk)
    bk.add_argument("out", metavar="OUT", help="file to write (or a folder: OUT/review.sqlite)")
    bk.set_defaults(func=run_backup)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_apply(args: argparse.Namespace) -> int:
    from ..dataset import DatasetError, load_dataset
    from ..review import ReviewError, apply_fixes, open_review_store

    s = settings_from(args)
    try:
        manifest = load_dataset(s.dataset, s.layout)
        store = open_review_store(s)
        events = apply_fixes(args.fixes, store, manifest, reviewer=args.reviewer)
    except (DatasetError, ReviewError) as e:
        return fail(str(e))
    images = len({e["image_id"] for e in events})
    print(f"applied {len(events)} change(s) to {images} image(s) as {args.reviewer} "
          f"(events {events[0]['id']}-{events[-1]['id']})")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    from ..review import ReviewError
    from ..review.backup import backup_database
    from ..review.db import sqlite_path
    from ..workspace import Workspace

    s = settings_from(args)
    src = sqlite_path(s.db_url) if s.db_url else Workspace(s.workspace).review_db
    try:
        r = backup_database(src, args.out)
    except (ReviewError, OSError) as e:
        return fail(str(e))
    print(f"backed up {r.events:,} event(s) (up to #{r.last_id}) from {src} to {r.path} ({r.bytes:,} bytes)")
    print(f"  to restore: stop the app, then copy {r.path.name} over {src} (and delete any {src.name}-wal, "
          f"{src.name}-shm beside it)")
    return 0


def run_log(args: argparse.Namespace) -> int:
    from ..review import ReviewError, open_review_store

    s = settings_from(args)
    if not s.dataset.exists():
        return fail(f"dataset path does not exist: {s.dataset}")
    try:
        ev = open_review_store(s, read_only=True).events()  # only reads: works in a read-only workspace
    except ReviewError as e:
        return fail(str(e))
    if args.limit > 0:
        ev = ev.tail(args.limit)
    if args.json:
        print_json(ev.to_dict(orient="records"))
        return 0
    if ev.empty:
        print("no review events yet")
        return 0
    for e in ev.itertuples(index=False):
        change = f"{safe_text(e.old)} -> {safe_text(e.new)}"
        note = f"  # {safe_text(e.note)}" if e.note else ""
        print(f"{e.id:>6}  {e.at[:19].replace('T', ' ')}  {safe_text(e.reviewer):<12} {e.action:<9} {e.field:<9} "
              f"{change:<22} {safe_text(e.image_id)}{note}")
    return 0


def safe_text(value: object) -> str:
    """One line of plain text: newlines, terminal escape sequences and other control characters
    shown escaped (``\\n``, ``\\x1b``), so a note cannot forge log lines or drive the terminal."""
    s = "" if value is None else str(value)
    out = []
    for ch in s:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif code < 32 or 127 <= code < 160 or code in (0x2028, 0x2029) or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
