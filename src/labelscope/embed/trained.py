"""The training module's penultimate-layer embeddings (the newest imported run's predictions)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .base import EmbedContext


def _run_file(workspace: Any):
    from ..train.registry import run_dir

    return run_dir(workspace) / "predictions.parquet"


def available(workspace: Any = None) -> tuple[bool, str]:
    if workspace is None:
        return False, "needs a workspace with an imported training run"
    try:
        path = _run_file(workspace)
    except FileNotFoundError:
        return False, "no training run in the workspace yet (labelscope train / predictions import)"
    import pyarrow.parquet as pq

    if "embedding" not in pq.read_schema(path).names:
        return False, f"{path} has no embedding column"
    return True, f"from {path.parent.name}"


def token(workspace: Any) -> str:
    """Changes whenever the newest run's predictions file changes."""
    try:
        p = _run_file(workspace)
        st = p.stat()
    except (FileNotFoundError, OSError):
        return ""
    return f"{p.parent.name}:{st.st_size}:{st.st_mtime_ns}"


def compute(ctx: EmbedContext) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from ..train.registry import embedding_matrix, load_predictions

    df = load_predictions(ctx.workspace)
    df = df.drop_duplicates("image_id", keep="last").reset_index(drop=True)
    mat = embedding_matrix(df)
    pos = {iid: k for k, iid in enumerate(df["image_id"].astype(str))}
    n = len(ctx.image_ids)
    out = np.zeros((n, mat.shape[1] if mat.size else 1), dtype=np.float32)
    ok = np.zeros(n, dtype=bool)
    for k, iid in enumerate(ctx.image_ids):
        j = pos.get(iid)
        if j is not None and np.isfinite(mat[j]).all():
            out[k], ok[k] = mat[j], True
    if ctx.progress:
        ctx.progress(n, n)
    return out, ok, {"run": str(df.attrs.get("run", "")), "token": token(ctx.workspace)}
