"""Looking at the dataset as it is: counts, colours and image quality.

- ``summary``: dataset-level numbers for the Overview (counts, class balance, suspect counts);
- ``colours``: per-group colour histograms, mean images and the colour digest;
- ``flags``: image-quality flags from scan features, with visible thresholds;
- ``duplicates``: exact and near duplicates.

The quality names are re-exported here (``from labelscope.eda import quality_flags``).
"""
from .duplicates import Duplicates, duplicate_pairs, find_duplicates, near_pairs
from .flags import FLAG_HELP, FLAGS, QualityThresholds, flag_counts, quality_flags, unreadable

__all__ = ["Duplicates", "FLAGS", "FLAG_HELP", "QualityThresholds", "duplicate_pairs", "find_duplicates",
           "flag_counts", "near_pairs", "quality_flags", "unreadable"]
