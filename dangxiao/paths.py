"""Where the project's content folders are.

The content (courses, assignments, datasets) lives beside the code in a checkout. The package can be
installed editable (the usual case, `make serve`) or from a wheel; `DANGXIAO_ROOT` overrides both.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout holding `courses/` and `assignments/`."""
    env = os.environ.get("DANGXIAO_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "courses").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    return PACKAGE_DIR.parent


def courses_dir() -> Path:
    return project_root() / "courses"


def assignments_dir() -> Path:
    return project_root() / "assignments"


def datasets_dir() -> Path:
    """The committed datasets: shipped inside the package as `dangxiao.datasets`."""
    import dangxiao.datasets

    return Path(dangxiao.datasets.__file__).resolve().parent


def data_dir() -> Path:
    """Where the site keeps what it records (the SQLite record store, account sheets): `$DANGXIAO_DATA`,
    else `data/` in the checkout. Not under `courses/`, which Voila serves."""
    env = os.environ.get("DANGXIAO_DATA")
    return Path(env).resolve() if env else project_root() / "data"
