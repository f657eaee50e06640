"""Errors raised by the review store; both are ``ValueError`` subclasses."""
from __future__ import annotations


class ReviewError(ValueError):
    """An action was refused before anything was written (unknown id, field or value,
    empty reviewer, a busy database); the message says which and why."""


class StaleLabelError(ReviewError):
    """A relabel (or undo) was refused because the label changed since the reviewer saw it.

    ``conflicts`` lists ``(image_id, field, seen, current, changed_by)`` for every image
    whose label moved; the message names who changed what to what.
    """

    def __init__(self, message: str, conflicts: list[tuple[str, str, str, str, str]]):
        super().__init__(message)
        self.conflicts = conflicts


class StoreUnavailable(ReviewError):
    """The review database cannot be used (damaged, a directory, unwritable, disk full). The
    message names the file and how to recover; the file itself is left untouched."""
