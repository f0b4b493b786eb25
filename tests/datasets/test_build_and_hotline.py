"""The build reproduces the committed CSVs; the simulated hotline is seeded and labelled 模拟数据."""
import shutil

import pytest

from dangxiao import data
from dangxiao.cli import main
from dangxiao.datasets import simulate_hotline
from dangxiao.datasets.build import COLUMNS, CONTENT_DIR, build
from dangxiao.errors import DangxiaoError

from dangxiao.paths import datasets_dir

DATASETS = datasets_dir()


def test_build_reproduces_the_committed_csvs(capsys, seeds, tmp_path):
    assert main(["datasets", "build", "--sources", str(seeds), "--out", str(tmp_path)]) == 0
    for name in COLUMNS:
        assert (tmp_path / name).read_bytes() == (DATASETS / name).read_bytes(), name


def test_build_refuses_content_that_contradicts_the_sources(seeds, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    path = content / "quotations.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("要把更多资源下沉到社区来", "要把更多资源下放到社区来"),
                    encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(DangxiaoError, match="wuhan-q06"):
        build(seeds, out, content)
    assert not out.exists()  # nothing written


def test_build_refuses_a_value_that_contradicts_its_text(seeds, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    path = content / "indicators.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 14000000000", "value: 1400000000"), encoding="utf-8")
    with pytest.raises(DangxiaoError, match="wuhan-25"):
        build(seeds, tmp_path / "out", content)


def test_hotline_script_is_deterministic(tmp_path):
    first = simulate_hotline.write(tmp_path / "a.csv")
    second = simulate_hotline.write(tmp_path / "b.csv")
    assert first.read_bytes() == second.read_bytes() == (DATASETS / simulate_hotline.FILE_NAME).read_bytes()
    other = simulate_hotline.write(tmp_path / "c.csv", seed=7)
    assert other.read_bytes() != first.read_bytes()


def test_hotline_loader_is_labelled_and_typed():
    frame = data.hotline()
    assert frame.attrs["label"] == "模拟数据" and "模拟数据" in data.HOTLINE_FILE
    assert len(frame) == simulate_hotline.ROWS and frame["record_id"].is_unique
    assert str(frame["satisfaction"].dtype) == "Int64" and frame["satisfaction"].dropna().between(1, 5).all()
    assert frame.loc[frame["status"] == "办理中", "closed_at"].isna().all()


def test_m4_answers_match_the_simulated_data():
    from dangxiao.questions import load_bank

    bank, frame = load_bank(DATASETS / "questions"), data.hotline()
    hours = (frame["closed_at"] - frame["received_at"]).dt.total_seconds() / 3600
    property_cases = frame["category"] == "物业管理"
    slowest = hours[property_cases].groupby(frame.loc[property_cases, "district"]).median().idxmax()
    assert bank["m4-q01"].is_correct(slowest)
    assert bank["m4-q03"].is_correct(int((frame["status"] == "办理中").sum()))
    liuan = frame[property_cases & (frame["district"] == "柳岸区")]["satisfaction"].dropna()
    assert bank["m4-q09"].is_correct(round(float(liuan.mean()), 2))
    noise = frame[frame["category"] == "噪音扰民"]
    assert bank["m4-q10"].is_correct(bool(noise["received_at"].dt.month.isin([6, 7, 8]).mean() > 0.5))
    assert all("模拟数据" in question.stem for qid, question in bank.items() if qid.startswith("m4-") and qid != "m4-q04")
