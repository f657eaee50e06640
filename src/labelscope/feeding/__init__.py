"""Data-feeding lab: is the loader or the model the bottleneck, by batch size, workers and order?

However good the model, a loader that cannot keep up caps training speed. The lab times the
two halves of a training step alone, with the project's own Dataset, transforms and model:

- the loader (decode + crop + augment + collate) at each batch size and worker count;
- the model (forward + backward + step) on synthetic tensors of the same shape;

and says per setting which one is slower and by how much, which setting is fastest while
keeping the model fed, and what memory each uses. It also times the same augmentations in
two orders (resize to 512 then rotate, versus rotate then resize) and the decode options
(full, reduced JPEG decode, cached thumbnails).

    labelscope feeding data/demo                                  # table + suggestions
    labelscope feeding data/demo --model resnet18 --workers 0,2 --json

>>> from labelscope.feeding import feeding_report
>>> r = feeding_report("data/demo", batch_sizes=[16, 32], workers=[0, 1])
>>> r.verdicts[["batch_size", "workers", "bound", "factor"]]; r.suggestions[0]
"""
from __future__ import annotations

from .decode import compare_decoders
from .measure import LoaderTiming, ModelTiming, resolve_device, time_loader, time_model
from .orders import OrderComparison, compare_transform_orders, seed_orders
from .report import FeedingReport, feeding_report, measure_feeding
from .suggest import suggestions
from .verdict import BestSetting, best_setting, verdicts

__all__ = ["BestSetting", "FeedingReport", "LoaderTiming", "ModelTiming", "OrderComparison", "best_setting",
           "compare_decoders", "compare_transform_orders", "feeding_report", "measure_feeding", "resolve_device",
           "seed_orders", "suggestions", "time_loader", "time_model", "verdicts"]
