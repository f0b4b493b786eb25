"""模拟数据: simulated 12345 hotline records for the data-literacy lesson (module m4).

    python -m dangxiao.datasets.simulate_hotline [--seed 2024] [--rows 2000] [--out FILE]

Nothing here is a real figure: the districts are invented (晓岚区, 鹊桥区 …) and every number
comes from the seeded generator below. The same seed gives the same bytes.

The district names were checked against real place names: none is the name of a county-level
division (区, 县, 县级市) in the national list of administrative divisions (3,500-odd names, as shipped
in the `cpca` package's adcodes.csv, 2020), nor of a district of the five cities studied. Earlier
names were replaced because they are real: 东湖区 (南昌市), 北塘区 (无锡市, until 2015); 青山湾区 was
too close to 武汉市青山区, and 云岭 is a common name for Yunnan.

Patterns planted for trainees to find (documented in datasets/README.md):
- 柳岸区 is slow on 物业管理: its property complaints take about three times as long to close,
  and their satisfaction is lower;
- 噪音扰民 calls peak in summer evenings; 就业社保 calls rise in February–March;
- about 4 % of records are still open (status 办理中, no closed_at, no satisfaction), and about
  12 % of closed records have no satisfaction score (the caller did not answer the survey).
"""
from __future__ import annotations

import argparse
import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

__all__ = ["FILE_NAME", "COLUMNS", "SEED", "simulate", "write"]

FILE_NAME = "hotline_12345_模拟数据.csv"
COLUMNS = ("record_id", "district", "category", "received_at", "closed_at", "satisfaction", "status")
SEED = 2024
ROWS = 2000
LABEL = "模拟数据"

DISTRICTS = {"晓岚区": 0.24, "鹊桥区": 0.20, "柳岸区": 0.18, "石桥区": 0.16, "月牙新区": 0.12, "听涛区": 0.10}
CATEGORIES = {"物业管理": 0.22, "噪音扰民": 0.14, "道路交通": 0.15, "环境卫生": 0.16, "就业社保": 0.10,
              "供水供暖": 0.13, "医疗卫生": 0.10}
# Typical hours to close a case, by category (log-normal median).
MEDIAN_HOURS = {"物业管理": 60, "噪音扰民": 18, "道路交通": 72, "环境卫生": 30, "就业社保": 96,
                "供水供暖": 36, "医疗卫生": 48}
SLOW_DISTRICT, SLOW_CATEGORY, SLOW_FACTOR = "柳岸区", "物业管理", 3.0
START = datetime(2023, 1, 1)
DAYS = 365


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _received_at(rng: random.Random, category: str) -> datetime:
    day = rng.randrange(DAYS)
    month = (START + timedelta(days=day)).month
    # Seasonal patterns: noise in summer, jobs and social security after Spring Festival.
    if category == "噪音扰民" and month not in (6, 7, 8) and rng.random() < 0.5:
        day = rng.randrange(151, 243)
    if category == "就业社保" and month not in (2, 3) and rng.random() < 0.35:
        day = rng.randrange(31, 90)
    hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 8, 7, 8, 9, 9, 8, 8, 9, 10, 10, 8, 5, 2])[0]
    if category == "噪音扰民" and rng.random() < 0.6:
        hour = rng.choice([20, 21, 22, 23])
    return START + timedelta(days=day, hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))


def simulate(seed: int = SEED, rows: int = ROWS) -> list[dict[str, str]]:
    """The records, in order of receipt (模拟数据)."""
    rng = random.Random(seed)
    records = []
    for _ in range(rows):
        district, category = _pick(rng, DISTRICTS), _pick(rng, CATEGORIES)
        received = _received_at(rng, category)
        slow = district == SLOW_DISTRICT and category == SLOW_CATEGORY
        hours = rng.lognormvariate(0, 0.6) * MEDIAN_HOURS[category] * (SLOW_FACTOR if slow else 1.0)
        closed = received + timedelta(hours=max(hours, 0.5))
        still_open = rng.random() < 0.04
        satisfaction = ""
        if not still_open and rng.random() >= 0.12:
            # Slower cases are rated lower; the slow district's property cases lower still.
            mean = 4.4 - 0.5 * min(hours / MEDIAN_HOURS[category], 3) - (0.6 if slow else 0)
            satisfaction = str(min(5, max(1, round(rng.gauss(mean, 0.8)))))
        records.append({
            "district": district, "category": category, "received_at": received,
            "closed_at": "" if still_open else closed.strftime("%Y-%m-%d %H:%M:%S"),
            "satisfaction": satisfaction, "status": "办理中" if still_open else "已办结",
        })
    records.sort(key=lambda r: r["received_at"])
    for number, record in enumerate(records, 1):
        record["record_id"] = f"SIM-{number:05d}"
        record["received_at"] = record["received_at"].strftime("%Y-%m-%d %H:%M:%S")
    return [{column: record[column] for column in COLUMNS} for record in records]


def write(path: Path | str, seed: int = SEED, rows: int = ROWS) -> Path:
    """Write the CSV (UTF-8, "\\n" line ends, like every data file of the package)."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(simulate(seed, rows))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"生成 12345 热线{LABEL} / write the simulated hotline records")
    parser.add_argument("--seed", type=int, default=SEED, help=f"随机种子（默认 {SEED}）/ random seed")
    parser.add_argument("--rows", type=int, default=ROWS, help=f"记录条数（默认 {ROWS}）/ number of records")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / FILE_NAME,
                        help="输出文件 / output file")
    args = parser.parse_args(argv)
    print(f"已写入{LABEL} / wrote {write(args.out, args.seed, args.rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
