"""Image quality from scan features: threshold flags, exact and near duplicates."""
from .duplicates import Duplicates, duplicate_pairs, find_duplicates, near_pairs
from .flags import FLAG_HELP, FLAGS, QualityThresholds, flag_counts, quality_flags, unreadable

__all__ = ["Duplicates", "FLAGS", "FLAG_HELP", "QualityThresholds", "duplicate_pairs", "find_duplicates",
           "flag_counts", "near_pairs", "quality_flags", "unreadable"]
