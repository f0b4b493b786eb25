"""Fixtures for the datasets tests: the source articles beside the repo, and tmp copies of the datasets."""
import shutil
from pathlib import Path

import pytest

import dangxiao.datasets

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO.parent / "shared" / "seeds"
DATASETS = Path(dangxiao.datasets.__file__).resolve().parent


@pytest.fixture
def seeds() -> Path:
    """The five articles: CI has ../shared beside the repo; skip only where they are absent."""
    if not (SEEDS / "SOURCES.md").is_file():
        pytest.skip(f"source articles not found at {SEEDS}")
    return SEEDS


@pytest.fixture
def datasets_copy(tmp_path) -> Path:
    """A tmp copy of the committed CSVs and question bank, safe to tamper with."""
    target = tmp_path / "datasets"
    target.mkdir()
    for path in DATASETS.glob("*.csv"):
        shutil.copy2(path, target / path.name)
    shutil.copytree(DATASETS / "questions", target / "questions")
    return target


@pytest.fixture
def no_courses(tmp_path) -> Path:
    """An empty courses folder, so validate's catalog check does not depend on lessons in progress."""
    folder = tmp_path / "courses"
    folder.mkdir()
    return folder
