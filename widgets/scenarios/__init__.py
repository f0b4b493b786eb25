"""Teaching scenarios (教学情景（虚构）) shipped with the widgets, as YAML content apart from code."""
from pathlib import Path

__all__ = ["SCENARIOS_DIR", "scenario_path"]

SCENARIOS_DIR = Path(__file__).resolve().parent


def scenario_path(name: str) -> Path:
    """`scenario_path("dispute")` → the shipped `dispute.yaml`."""
    return SCENARIOS_DIR / f"{name}.yaml"
