"""Synthetic demo dataset in the mask-competition layout, with known, recorded label noise.

>>> from labelscope.demo import make_demo
>>> make_demo("data/demo", people=200, seed=0)        # 1,400 JPEGs + train.csv + noise_truth.csv

Each person is drawn once (``demo.draw``) and the seven photos are derived from that drawing
(``demo.photo``); people are drawn in a process pool, each from its own random generator
seeded by (seed, person index), so the same seed gives the same bytes for any worker count.
``noise_truth.csv`` records every injected fault; the app never reads it.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..dataset.mask import AGE_GROUPS, CLASS_NAMES, GENDERS, STEM_TO_MASK, age_group, class_index, write_train_csv
from ..workspace import atomic_write, write_json

MARKER = ".labelscope-demo.json"
NOISE_COLUMNS = ("kind", "person", "image_id", "field", "given", "true")
PHOTO_STEMS = ("mask1", "mask2", "mask3", "mask4", "mask5", "incorrect_mask", "normal")
_AGE_RANGES = ((18, 29), (30, 59), (60, 79))
_CELL_WEIGHTS = np.outer([0.45, 0.55], [0.4, 0.35, 0.25]).ravel()  # gender x age group


@dataclass(frozen=True)
class DemoPerson:
    """One person: true attributes, what train.csv says (``given_*``), and a swap flag."""

    index: int
    race: str
    gender: str
    age: int
    given_gender: str
    given_age: int
    swap: bool = False

    @property
    def id(self) -> str:
        return f"{self.index + 1:06d}"

    @property
    def path(self) -> str:
        return f"{self.id}_{self.given_gender}_{self.race}_{self.given_age}"

    def image_id(self, stem: str) -> str:
        return f"images/{self.path}/{stem}.jpg"

    def given_class(self, stem: str) -> str:
        return CLASS_NAMES[class_index(STEM_TO_MASK[stem], self.given_gender, self.given_age)]


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`make_demo` wrote."""

    out: Path
    people: int
    images: int
    seed: int
    noise_rate: float
    seconds: float
    faults: dict[str, int] = field(default_factory=dict)   # kind -> rows in noise_truth.csv

    def __str__(self) -> str:
        f = ", ".join(f"{k} {v}" for k, v in self.faults.items())
        return (f"wrote {self.images} images of {self.people} people to {self.out} in {self.seconds:.1f} s "
                f"(seed {self.seed}; injected faults: {f}; truth in noise_truth.csv)")


def make_demo(out: str | os.PathLike[str], *, people: int = 200, seed: int = 0, noise_rate: float = 0.1,
              workers: int | None = None, overwrite: bool = False,
              progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    """Write a synthetic competition-layout dataset with injected, recorded label noise.

    Parameters
    ----------
    out : path
        Output folder: created if missing; must be empty or a previous demo (replaced only
        with ``overwrite=True``).
    people : int, default 200
        Number of persons (7 photos each, 384x512 JPEG).
    seed : int, default 0
        Same seed, same bytes (for any ``workers``).
    noise_rate : float, default 0.1
        Fraction of people in each of three disjoint faulty groups: wrong gender, wrong age
        group, swapped incorrect_mask/normal files. Plus max(2, round(people/100)) exact
        duplicates and one unreadable file.
    workers : int, optional
        Drawing processes (default: CPU count); 1 draws in this process.
    progress : callable, optional
        Called as ``progress(images_done, images_total)``.

    Returns
    -------
    DemoSummary
    """
    if people < 2:
        raise ValueError(f"people must be at least 2 (got {people})")
    if not 0 <= noise_rate <= 1 / 3:
        raise ValueError(f"noise_rate must be between 0 and 1/3 (three disjoint groups of people); got {noise_rate}")
    t0 = time.perf_counter()
    root = _prepare_out(Path(out).expanduser(), overwrite=overwrite)
    persons, dups, unreadable = plan_demo(people, seed=seed, noise_rate=noise_rate)
    write_json({"generator": "labelscope demo", "complete": False, "seed": seed, "people": people,
                "noise_rate": noise_rate}, root / MARKER)
    _draw_all(root, persons, seed, workers, progress)
    rows = _truth_rows(persons)
    for target, stem, source, src_stem in dups:
        data = (root / source.image_id(src_stem)).read_bytes()
        (root / target.image_id(stem)).write_bytes(data)
        rows.append(("duplicate", target.id, target.image_id(stem), "", target.given_class(stem),
                     source.image_id(src_stem)))
    person, stem = unreadable
    f = root / person.image_id(stem)
    f.write_bytes(f.read_bytes()[:100])        # cut inside the JPEG header: no decoder can read it
    rows.append(("unreadable", person.id, person.image_id(stem), "", person.given_class(stem), ""))
    truth = pd.DataFrame(rows, columns=list(NOISE_COLUMNS))
    atomic_write(root / "noise_truth.csv", lambda p: truth.to_csv(p, index=False))
    table = pd.DataFrame({"id": [p.id for p in persons], "gender": [p.given_gender for p in persons],
                          "race": [p.race for p in persons], "age": [p.given_age for p in persons],
                          "path": [p.path for p in persons]})
    atomic_write(root / "train.csv", lambda p: write_train_csv(table, p))
    write_json({"generator": "labelscope demo", "complete": True, "seed": seed, "people": people,
                "noise_rate": noise_rate}, root / MARKER)
    faults = {k: int(n) for k, n in truth["kind"].value_counts().sort_index().items()}
    return DemoSummary(root, people, people * len(PHOTO_STEMS), seed, noise_rate,
                       time.perf_counter() - t0, faults)


def plan_demo(people: int, *, seed: int = 0, noise_rate: float = 0.1
              ) -> tuple[list[DemoPerson], list[tuple[DemoPerson, str, DemoPerson, str]], tuple[DemoPerson, str]]:
    """Decide every person's attributes and every fault (cheap; no drawing).

    Returns ``(persons, duplicates, unreadable)``: duplicates are (target, stem, source,
    source stem) with the source photo's bytes written over the target's; unreadable is
    (person, stem).
    """
    rng = np.random.default_rng([seed, 0, people])
    cells = _allocate(people, _CELL_WEIGHTS)
    cells = cells[rng.permutation(people)]
    races = ("Asian", "Black", "White", "Latino")
    base = []
    for i, c in enumerate(cells):
        g, a = GENDERS[c // 3], int(c % 3)
        lo, hi = _AGE_RANGES[a]
        base.append((str(rng.choice(races, p=[0.4, 0.2, 0.25, 0.15])), g, int(rng.integers(lo, hi + 1))))
    n = int(round(noise_rate * people))
    order = rng.permutation(people)
    wrong_gender, wrong_age, swapped = set(order[:n]), set(order[n:2 * n]), set(order[2 * n:3 * n])
    persons = []
    for i, (race, g, age) in enumerate(base):
        gg, ga = g, age
        if i in wrong_gender:
            gg = GENDERS[1 - GENDERS.index(g)]
        if i in wrong_age:
            others = [k for k in range(3) if AGE_GROUPS[k] != age_group(age)]
            lo, hi = _AGE_RANGES[int(rng.choice(others))]
            ga = int(rng.integers(lo, hi + 1))
        persons.append(DemoPerson(i, race, g, age, gg, ga, swap=i in swapped))
    clean = [int(i) for i in order[3 * n:]]
    pool = clean + [int(i) for i in order[:3 * n]]              # clean people first
    n_dup = max(2, int(round(people * 0.01)))
    dups = []
    for k in range(n_dup):
        target = persons[pool[(2 * k) % people]]
        source = persons[pool[(2 * k + 1) % people]]
        taken = {d[1] for d in dups if d[0] is target}
        stem = str(rng.choice([s for s in PHOTO_STEMS if s not in taken]))
        dups.append((target, stem, source, stem))
    used = {(d[0].index, d[1]) for d in dups} | {(d[2].index, d[3]) for d in dups}
    start = (2 * n_dup) % people
    stems = [str(s) for s in rng.permutation(PHOTO_STEMS[:5])]
    unreadable = next((persons[pool[(start + j) % people]], s) for j in range(people) for s in stems
                      if (pool[(start + j) % people], s) not in used)   # 5 stems > 2 duplicates per person
    return persons, dups, unreadable


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Cell index per person: largest-remainder shares, every cell at least once if possible."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(int)
    if total >= len(weights):
        counts = np.maximum(counts, 1)
    while counts.sum() > total:
        counts[int(np.argmax(counts))] -= 1
    rem = share - np.floor(share)
    while counts.sum() < total:
        j = int(np.argmax(rem))
        counts[j] += 1
        rem[j] = -1
    return np.repeat(np.arange(len(weights)), counts)


def _truth_rows(persons: list[DemoPerson]) -> list[tuple]:
    rows = []
    for p in persons:
        if p.given_gender != p.gender:
            rows.append(("gender", p.id, "", "gender", p.given_gender, p.gender))
        if p.given_age != p.age:
            rows.append(("age", p.id, "", "age", str(p.given_age), str(p.age)))
        if p.swap:
            rows.append(("swap", p.id, p.image_id("incorrect_mask"), "mask", "incorrect", "not_wear"))
            rows.append(("swap", p.id, p.image_id("normal"), "mask", "not_wear", "incorrect"))
    return rows


def _prepare_out(root: Path, *, overwrite: bool) -> Path:
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"{root} exists and is not a folder")
    if root.is_dir() and any(root.iterdir()):
        if not (root / MARKER).is_file():
            raise FileExistsError(f"refusing to write the demo into {root}: the folder is not empty and is not "
                                  "a previous labelscope demo (choose an empty or new folder)")
        if not overwrite:
            raise FileExistsError(f"{root} already holds a labelscope demo; pass overwrite=True "
                                  "(labelscope demo --overwrite) to replace it")
        shutil.rmtree(root / "images", ignore_errors=True)
        for name in ("train.csv", "noise_truth.csv", MARKER):
            (root / name).unlink(missing_ok=True)
    (root / "images").mkdir(parents=True, exist_ok=True)
    return root.resolve()


def _draw_all(root: Path, persons: list[DemoPerson], seed: int, workers: int | None,
              progress: Callable[[int, int], None] | None) -> None:
    jobs = [(str(root), seed, p) for p in persons]
    total, done = len(persons) * len(PHOTO_STEMS), 0
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if progress:
        progress(0, total)
    if workers == 1:
        for job in jobs:
            done += draw_person(job)
            if progress:
                progress(done, total)
        return
    # forkserver, not fork: a parent that already runs threads (cv2, torch) can deadlock forked children
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
        for fut in as_completed([pool.submit(draw_person, job) for job in jobs]):
            done += fut.result()
            if progress:
                progress(done, total)


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def draw_person(job: tuple[str, int, DemoPerson]) -> int:
    """Draw one person's seven photos into ``root/images/<path>/``; returns the file count."""
    from .draw import draw_head
    from .look import sample_look
    from .photo import person_photos

    root, seed, p = job
    rng = np.random.default_rng([seed, 1, p.index])
    look = sample_look(rng, p.gender, p.age, p.race)
    photos = person_photos(draw_head(look, rng), look, rng)
    if p.swap:
        photos["incorrect_mask"], photos["normal"] = photos["normal"], photos["incorrect_mask"]
    folder = Path(root) / "images" / p.path
    folder.mkdir(parents=True, exist_ok=True)
    for stem in PHOTO_STEMS:
        (folder / f"{stem}.jpg").write_bytes(photos[stem])
    return len(photos)


def true_labels(out: str | os.PathLike[str]) -> pd.DataFrame:
    """Every image of a demo with its *true* labels, from train.csv and noise_truth.csv.

    Returns one row per image: ``image_id``, ``group_id``, ``mask``, ``gender``, ``age``,
    ``age_group``, ``class_index``, ``label`` (true values), and ``fault`` (the kinds of noise
    that touched the image, ``;``-joined, "" when clean). A ``duplicate`` file shows another
    person and the ``unreadable`` one shows nothing: both keep their path's labels here, so
    filter on ``fault`` where that matters.
    """
    root = Path(out)
    table = pd.read_csv(root / "train.csv", dtype={"id": str, "path": str})
    truth = pd.read_csv(root / "noise_truth.csv", dtype=str, keep_default_na=False)
    fix = {(r.person, r.field): r.true for r in truth.itertuples() if r.kind in ("gender", "age")}
    swapped = {r.image_id: r.true for r in truth.itertuples() if r.kind == "swap"}
    touched: dict[str, list[str]] = {}
    for r in truth.itertuples():
        if r.image_id:
            touched.setdefault(r.image_id, []).append(r.kind)
    rows = []
    for r in table.itertuples():
        gender = fix.get((r.id, "gender"), r.gender)
        age = int(fix.get((r.id, "age"), r.age))
        kinds = [k for k in ("gender", "age") if (r.id, k) in fix]
        for stem in PHOTO_STEMS:
            iid = f"images/{r.path}/{stem}.jpg"
            rows.append({"image_id": iid, "group_id": r.id, "mask": swapped.get(iid, STEM_TO_MASK[stem]),
                         "gender": gender, "age": age, "fault": ";".join(kinds + touched.get(iid, []))})
    df = pd.DataFrame(rows)
    df["age_group"] = [age_group(a) for a in df["age"]]
    df["class_index"] = [class_index(m, g, a) for m, g, a in zip(df["mask"], df["gender"], df["age"])]
    df["label"] = [CLASS_NAMES[i] for i in df["class_index"]]
    return df
