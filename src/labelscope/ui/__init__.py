"""Streamlit helpers shared by the pages: the frame, cached loaders, galleries.

This is the only package under ``src/labelscope`` that imports Streamlit.
"""
from .frame import frame, init_state, reviewer

__all__ = ["frame", "init_state", "reviewer"]
