"""Training on the exported labels: torch Dataset, transforms, models, grouped k-fold runs.

Run from the command line (the module docstrings of ``run`` and ``commands.train`` say more)::

    labelscope export data/demo --out data/demo-export
    labelscope train data/demo-export/labels.csv --dataset data/demo --out runs/small \\
        --model small --img-size 64 --folds 2 --epochs 1 --workspace data/demo/.labelscope

Submodules import torch; ``labelscope.train.registry`` does not (the app reads runs with it).
Import what you need from the submodules (``from labelscope.train.data import LabelsDataset``);
this package file stays empty of imports so that ``import labelscope.train.registry`` is cheap.
"""
