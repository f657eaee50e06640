"""Suggestions in plain words, each drawn from the measured numbers (no canned advice)."""
from __future__ import annotations

import math

import pandas as pd

from .orders import OrderComparison
from .verdict import BestSetting


def _n(x: float) -> str:
    """A rate for humans: 3 significant figures, no exponent."""
    if not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _workers(w: int) -> str:
    return "no worker processes (loading in the main process)" if w == 0 else f"{w} worker{'s' if w > 1 else ''}"


def setting_words(best: BestSetting | None) -> str:
    """The headline: which setting to use and why, or that nothing keeps the model fed."""
    if best is None:
        return "Nothing was measured."
    if best.fed:
        return (f"Use batch size {best.batch_size} with {_workers(best.workers)}: the loader delivers "
                f"{_n(best.loader_ips)} images/s, {best.factor:.1f}x the {_n(best.model_ips)} images/s the model "
                f"uses, so the model does not wait for data.")
    idle = 1.0 - best.loader_ips / best.model_ips if best.model_ips > 0 else 0.0
    return (f"No setting measured keeps the model fed. The best, batch size {best.batch_size} with "
            f"{_workers(best.workers)}, loads {_n(best.loader_ips)} images/s while the model could train on "
            f"{_n(best.model_ips)} images/s ({best.factor:.1f}x more): the model would wait {idle:.0%} of the time.")


def _worker_scaling(loader: pd.DataFrame, cpu_count: int) -> str | None:
    ws = sorted(loader["workers"].unique())
    if len(ws) < 2:
        return None
    lo, hi = ws[0], ws[-1]
    piv = loader.pivot_table(index="batch_size", columns="workers", values="images_per_s", aggfunc="first")
    gain = (piv[hi] / piv[lo]).dropna()
    if gain.empty:
        return None
    g = float(gain.median())
    if g >= 1.25:
        return (f"More loader workers help: {_workers(hi)} load {g:.1f}x as many images/s as "
                f"{_workers(lo)} (median over batch sizes).")
    if g <= 1.1:
        return (f"More loader workers barely help on these {cpu_count} core(s) ({g:.2f}x from {lo} to {hi} "
                f"workers): extra workers would mostly add memory and start-up time.")
    return f"More loader workers help a little: {g:.2f}x from {lo} to {hi} workers."


def _model_batches(model: pd.DataFrame) -> str | None:
    if len(model) < 2:
        return None
    m = model.sort_values("batch_size")
    small, big = m.iloc[0], m.iloc[-1]
    g = float(big["images_per_s"] / small["images_per_s"]) if small["images_per_s"] > 0 else float("nan")
    if not math.isfinite(g):
        return None
    mem = f" (model memory {big['mem_mb']:,.0f} MiB at batch {int(big['batch_size'])})" if "mem_mb" in m else ""
    if g >= 1.2:
        return (f"The model trains {g:.1f}x more images/s at batch size {int(big['batch_size'])} than at "
                f"{int(small['batch_size'])}{mem}: larger batches use the {m['device'].iloc[0]} better.")
    return (f"The model's rate hardly depends on batch size ({g:.2f}x from {int(small['batch_size'])} to "
            f"{int(big['batch_size'])}){mem}: pick the batch size for the optimisation, not for speed.")


def _orders(orders: OrderComparison | None) -> str | None:
    if orders is None:
        return None
    t = orders.table.set_index("order")
    names = list(t.index)
    slow, fast = (names[0], names[1]) if orders.ratio >= 1 else (names[1], names[0])
    r = max(orders.ratio, 1 / orders.ratio) if orders.ratio > 0 else float("nan")
    size = (f"the outputs have the same size ({t.loc[fast, 'out_size']})" if orders.same_size
            else f"but the outputs differ in size ({t.loc[slow, 'out_size']} vs {t.loc[fast, 'out_size']})")
    if r < 1.1:
        return f"Transform order hardly matters here: {slow} and {fast} differ by {r:.2f}x; {size}."
    return (f"Transform order matters: {fast.replace('_', ' ')} ran {r:.1f}x faster than "
            f"{slow.replace('_', ' ')} on your images ({_n(float(t.loc[fast, 'images_per_s']))} vs "
            f"{_n(float(t.loc[slow, 'images_per_s']))} images/s), and {size}.")


def _decode(decode: pd.DataFrame | None, img_size: int, current: str) -> list[str]:
    if decode is None or decode.empty:
        return []
    out: list[str] = []
    reduced = decode["method"].str.contains("draft|reduced")
    ok = decode[reduced & decode["enough_pixels"] & decode["images_per_s"].notna()]
    if len(ok):
        b = ok.sort_values("images_per_s", ascending=False).iloc[0]
        if b["speedup"] >= 1.2:
            how = ("training's reduced JPEG decode already does this" if current == "reduced"
                   else "decode=reduced (training's default loader) does this")
            out.append(f"Decoding smaller is faster: {b['method']} read {b['speedup']:.1f}x as many images/s as a "
                       f"full decode and still gives {int(b['width'])}x{int(b['height'])} px, enough for "
                       f"{img_size} px inputs; {how}.")
    th = decode[decode["method"] == "thumbnails"]
    if len(th) and th["images"].iloc[0] > 0:
        r = th.iloc[0]
        if r["enough_pixels"]:
            out.append(f"Cached thumbnails decode {r['speedup']:.1f}x as fast as a full JPEG and are big enough "
                       f"for {img_size} px inputs ({int(r['width'])}x{int(r['height'])} px): a loader could read "
                       f"them instead of the photos.")
        else:
            out.append(f"Cached thumbnails decode {r['speedup']:.1f}x as fast as a full JPEG but are only "
                       f"{int(r['width'])}x{int(r['height'])} px, too small for {img_size} px inputs.")
    return out


def suggestions(
    verdicts: pd.DataFrame,
    best: BestSetting | None,
    *,
    loader: pd.DataFrame,
    model: pd.DataFrame,
    orders: OrderComparison | None = None,
    decode: pd.DataFrame | None = None,
    device: str = "cpu",
    cpu_count: int = 1,
    img_size: int = 128,
    current_decode: str = "reduced",
) -> list[str]:
    """Plain-word suggestions, most important first; every number comes from the inputs."""
    out = [setting_words(best)]
    if len(verdicts):
        n_loader = int((verdicts["bound"] == "loader").sum())
        if 0 < n_loader < len(verdicts):
            out.append(f"The loader is the bottleneck in {n_loader} of {len(verdicts)} settings, the model in the "
                       f"other {len(verdicts) - n_loader}.")
        elif n_loader == len(verdicts):
            out.append(f"The loader is the bottleneck in all {n_loader} settings: the model waits for data "
                       f"{verdicts['model_idle'].min():.0%} to {verdicts['model_idle'].max():.0%} of the time.")
        else:
            out.append(f"The model is the bottleneck in all {len(verdicts)} settings: the loader is "
                       f"{verdicts['factor'].min():.1f}x to {verdicts['factor'].max():.1f}x faster than needed.")
    for line in (_worker_scaling(loader, cpu_count) if len(loader) else None, _model_batches(model) if len(model) else None,
                 _orders(orders)):
        if line:
            out.append(line)
    out += _decode(decode, img_size, current_decode)
    if device == "cpu" and len(loader) and loader["workers"].max() > 0:
        out.append(f"On CPU the model and the loader workers share the same {cpu_count} core(s), so a real "
                   f"training step is slower than either rate measured alone.")
    return out
