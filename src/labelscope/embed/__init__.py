"""Embeddings (pixels, colour, pretrained image and face networks, the trained model) and 2-D maps.

>>> from labelscope.embed import compute_embeddings, project, available_embedders
>>> available_embedders()                          # e.g. ['pixels', 'colour', 'effnet', 'face']
>>> emb = compute_embeddings("data/demo", name="effnet")
>>> xy = project(emb, "umap", workspace="data/demo/.labelscope")   # image_id, x, y

Every embedder's weights come from an installed package or a file already on disk; nothing is
downloaded. Torch and dlib are imported only when an embedder runs.
"""
from .base import EmbedContext, EmbedderSpec, Embedding
from .compute import best_embedding, combine, compute_embeddings, embedding_files, load_embeddings
from .projection import METHODS, cached_projection, project
from .registry import EMBEDDERS, availability, available_embedders, get_spec
from .shared import SharedResult, embed_with_faces

__all__ = ["EMBEDDERS", "METHODS", "EmbedContext", "EmbedderSpec", "Embedding", "availability",
           "available_embedders", "best_embedding", "cached_projection", "combine", "compute_embeddings", "embedding_files",
           "embed_with_faces", "get_spec", "load_embeddings", "project", "SharedResult"]
