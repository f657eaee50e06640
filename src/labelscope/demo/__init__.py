"""The synthetic demo dataset: people drawn in the mask-competition layout with recorded label noise.

``make`` plans and writes the dataset, ``draw`` draws one head, ``photo`` derives its seven
photos, ``look`` samples a person's appearance, ``canvas`` holds the drawing primitives::

    from labelscope.demo import make_demo
    make_demo("data/demo", people=200, seed=0)
"""
from .make import MARKER, NOISE_COLUMNS, PHOTO_STEMS, DemoPerson, DemoSummary, draw_person, make_demo, plan_demo, true_labels

__all__ = ["MARKER", "NOISE_COLUMNS", "PHOTO_STEMS", "DemoPerson", "DemoSummary", "draw_person", "make_demo",
           "plan_demo", "true_labels"]
