"""Background jobs for long work (faces, embeddings, suspects, training), shared by CLI and app.

A job runs ``python -m labelscope <command> ...`` as a detached process with a progress file
in the workspace; see ``runner`` (start, read, cancel, wait, list), ``child`` (the job's own
side: :func:`report` from progress callbacks), ``lock`` (one job of a kind per workspace) and
``state`` (the progress file). Standard library only, so importing it costs nothing.
"""
from .child import in_job, note, note_error, report, run_in_job, set_info
from .runner import JobBusy, cancel, list_jobs, read, start, wait
from .state import ACTIVE, ENDED, JobPaths, JobState, describe, log_tail

__all__ = ["ACTIVE", "ENDED", "JobBusy", "JobPaths", "JobState", "cancel", "describe", "in_job", "list_jobs",
           "log_tail", "note", "note_error", "read", "report", "run_in_job", "set_info", "start", "wait"]
