"""Suspected issues: one module per check, one registry, one ranked suspects table.

A check is one module of this package exposing ``CHECK`` (a :class:`~labelscope.issues.base.Check`
that declares its order and Queue label) following the contract in ``issues/base.py``; adding a
check is adding that module, nothing else. ``find_issues`` runs them and ranks what they find.
"""
from __future__ import annotations

import importlib
import pkgutil

from .base import Check, IssueInputs, issue_frame
from .find import find_issues, load_suspects, rank_suspects, save_suspects

# Modules that hold no check (helpers, the pipeline): not imported by the discovery below.
HELPER_MODULES = frozenset({"attribute", "base", "find", "pipeline", "probs"})


def _discover() -> dict[str, tuple[str, Check]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name in HELPER_MODULES or info.name.startswith("_"):
            continue
        check = getattr(importlib.import_module(f"{__name__}.{info.name}"), "CHECK", None)
        if isinstance(check, Check):
            found.append((check.order, check.name, info.name, check))
    return {name: (module, check) for _, name, module, check in sorted(found)}


_FOUND = _discover()
CHECKS: dict[str, Check] = {name: check for name, (_, check) in _FOUND.items()}
CHECK_MODULES = tuple(module for module, _ in _FOUND.values())

__all__ = ["CHECKS", "CHECK_MODULES", "Check", "IssueInputs", "find_issues", "issue_frame", "load_suspects",
           "rank_suspects", "save_suspects"]
