"""``labelscope db init|migrate|copy``: the review database (SQLite file or PostgreSQL).

    labelscope db init postgresql://ana:pw@db.lab:5432/labels        # or $LABELSCOPE_DB
    labelscope db migrate postgresql://ana:pw@db.lab:5432/labels
    labelscope db copy data/demo/.labelscope/review.sqlite postgresql://ana:pw@db.lab/labels
    labelscope db copy postgresql://ana:pw@db.lab/labels back.sqlite   # and back
"""
from __future__ import annotations

import argparse

from .common import fail

URL_HELP = "postgresql://user:password@host:port/database, sqlite:///path or a .sqlite file (default: $LABELSCOPE_DB)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="create, migrate or copy the review database (SQLite or PostgreSQL)")
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION")
    for name, what in (("init", "create the review schema (an existing one is migrated)"),
                       ("migrate", "bring the review schema up to this labelscope's version")):
        a = dsub.add_parser(name, help=what)
        a.add_argument("url", metavar="URL", nargs="?", default=None, help=URL_HELP)
        a.set_defaults(func=run_init)
    c = dsub.add_parser("copy", help="copy every review event into an empty database, verified",
                        description="Same ids, same values; verified by event count and a SHA-256 of the events "
                                    "before the copy commits. The source is only read.")
    c.add_argument("source", metavar="FROM", help=URL_HELP)
    c.add_argument("target", metavar="TO", help=URL_HELP)
    c.set_defaults(func=run_copy)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_init(args: argparse.Namespace) -> int:
    from ..review import ReviewError
    from ..review.transfer import init, resolve

    try:
        name, before, after = init(resolve(args.url))
    except ReviewError as e:
        return fail(str(e))
    if before == after:
        print(f"{name}: schema version {after}, up to date")
    elif before == 0:
        print(f"{name}: created the review schema (version {after})")
    else:
        print(f"{name}: migrated the review schema from version {before} to {after}")
    return 0


def run_copy(args: argparse.Namespace) -> int:
    from ..review import ReviewError
    from ..review.transfer import copy_events

    try:
        r = copy_events(args.source, args.target)
    except ReviewError as e:
        return fail(str(e))
    print(f"copied {r.events:,} event(s) from {r.source} to {r.target}; verified: same count, "
          f"sha256 {r.checksum}")
    return 0
