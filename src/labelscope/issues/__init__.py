"""Suspected issues: one module per check, one registry, one ranked suspects table.

Each module in ``CHECK_MODULES`` exposes ``CHECK`` (a :class:`~labelscope.issues.base.Check`)
following the contract in ``issues/base.py``; adding a check is adding a module and its
name here. ``find_issues`` runs them and ranks what they find.
"""
from __future__ import annotations

import importlib

from .base import Check, IssueInputs, issue_frame
from .find import find_issues, load_suspects, rank_suspects, save_suspects

CHECK_MODULES = ("quality", "duplicate", "person", "label", "outlier")
CHECKS: dict[str, Check] = {}
for _name in CHECK_MODULES:
    _check = importlib.import_module(f"{__name__}.{_name}").CHECK
    CHECKS[_check.name] = _check

__all__ = ["CHECKS", "CHECK_MODULES", "Check", "IssueInputs", "find_issues", "issue_frame", "load_suspects",
           "rank_suspects", "save_suspects"]
