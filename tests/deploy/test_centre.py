"""courses.yaml: validated on load with errors that name the file and the field; what the hub derives."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("dangxiao_hub_centre", REPO / "deploy" / "jupyterhub" / "centre.py")
centre_module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = centre_module
spec.loader.exec_module(centre_module)

GOOD = {
    "centre": "测试中心",
    "admins": ["boss"],
    "courses": [
        {"id": "c_one", "title": "课程一", "port": 9101, "grader": "grader-c_one",
         "instructors": ["teacher"], "trainees": ["t1", "t2"]},
        {"id": "c_two", "title": "课程二", "port": 9102, "instructors": ["teacher"], "trainees": ["t2"]},
    ],
}


def write(tmp_path, data) -> Path:
    path = tmp_path / "courses.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_courses_file_loads():
    centre = centre_module.load_centre(REPO / "deploy" / "jupyterhub" / "courses.yaml")
    assert [c.id for c in centre.courses] == ["jiceng_zhili", "jiceng_zhili_2"]
    assert all(c.title and not c.title.isascii() for c in centre.courses)  # titles people read are Chinese
    # the shipped course source exists and carries an nbgrader config
    for course in centre.courses:
        assert (REPO / course.source / "nbgrader_config.py").is_file()


def test_groups_follow_nbgrader_naming(tmp_path):
    centre = centre_module.load_centre(write(tmp_path, GOOD))
    groups = centre.groups()
    assert groups["nbgrader-c_one"]["users"] == ["teacher", "t1", "t2"]
    assert groups["formgrade-c_one"]["users"] == ["teacher", "grader-c_one"]
    assert groups["formgrade-c_two"]["users"] == ["teacher", "grader-c_two"]  # default grader name
    assert groups["instructors"]["users"] == ["teacher"]
    assert groups["trainees"]["users"] == ["t1", "t2"]
    assert groups["nbgrader-c_one"]["properties"]["title"] == "课程一"
    assert centre.users == ["boss", "teacher", "t1", "t2"]  # graders never log in
    roles = {r["name"]: r for r in centre.roles()}
    assert roles["formgrade-c_two"]["scopes"][0] == "access:services!service=c_two"
    assert roles["idle-culler"]["services"] == ["idle-culler"]


@pytest.mark.parametrize("change, message", [
    (lambda d: d["courses"][0].update(id="课程"), "courses[0]: id"),
    (lambda d: d["courses"][0].update(id="Bad-Id"), "courses[0]: id"),
    (lambda d: d["courses"][1].update(id="c_one"), "duplicate course id"),
    (lambda d: d["courses"][1].update(port=9101), "duplicate port"),
    (lambda d: d["courses"][0].update(port="9101"), "(c_one): port"),
    (lambda d: d["courses"][0].update(title=""), "(c_one): title"),
    (lambda d: d["courses"][0].update(trainees=["t1", "teacher"]), "both instructor and trainee"),
    (lambda d: d["courses"][0].update(trainees=["张三"]), "(c_one): trainees"),
    (lambda d: d["courses"][0].update(grader="t1"), "grader account"),
    (lambda d: d["courses"][0].update(extra=1), "unknown keys"),
    (lambda d: d.update(courses=[]), "at least one course"),
])
def test_bad_roster_is_refused_with_the_field(tmp_path, change, message):
    data = yaml.safe_load(yaml.safe_dump(GOOD, allow_unicode=True))
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(centre_module.CentreConfigError) as error:
        centre_module.load_centre(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(centre_module.CentreConfigError, match="not found"):
        centre_module.load_centre(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("courses: [unclosed", encoding="utf-8")
    with pytest.raises(centre_module.CentreConfigError, match="bad YAML"):
        centre_module.load_centre(bad)


def test_hub_config_loads_and_uses_the_roster(tmp_path, monkeypatch):
    """jupyterhub_config.py evaluated by traitlets as JupyterHub does, with the env it documents."""
    from traitlets.config.loader import PyFileConfigLoader

    monkeypatch.setenv("DANGXIAO_HUB_COURSES", str(write(tmp_path, GOOD)))
    monkeypatch.setenv("DANGXIAO_HUB_DATA", str(tmp_path / "hub"))
    monkeypatch.setenv("DANGXIAO_HUB_MEM_LIMIT", "3G")
    monkeypatch.setenv("DANGXIAO_HUB_SPAWNER", "systemd")
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(REPO / "deploy" / "jupyterhub")).load_config()
    assert set(config.JupyterHub.load_groups) == {"instructors", "trainees", "nbgrader-c_one", "formgrade-c_one",
                                                  "nbgrader-c_two", "formgrade-c_two"}
    services = {s["name"]: s for s in config.JupyterHub.services}
    assert set(services) == {"c_one", "c_two", "idle-culler", "dangxiao-records"}
    # the learning record: instructors and admins get the instructor role, servers reach it with their token
    records = services["dangxiao-records"]
    assert records["command"][1] == "records-service" and records["oauth_no_confirm"]
    arguments = dict(a[2:].split("=", 1) for a in records["command"][2:])
    assert set(arguments["staff"].split(",")) == {"teacher", "boss"}
    assert arguments["db"] == f"sqlite:///{tmp_path / 'hub' / 'records.sqlite'}"
    assert config.Spawner.environment["DANGXIAO_RECORDS_SERVICE_URL"] == \
        f"http://127.0.0.1:{records['url'].rsplit(':', 1)[1]}/services/dangxiao-records/"
    assert "access:services!service=dangxiao-records" in config.Spawner.server_token_scopes
    (role,) = [r for r in config.JupyterHub.load_roles if r["name"] == "dangxiao-records"]
    assert set(role["groups"]) == {"instructors", "trainees"}
    assert services["c_one"]["user"] == "grader-c_one" and services["c_one"]["url"] == "http://127.0.0.1:9101"
    assert services["idle-culler"]["command"][1:3] == ["-m", "jupyterhub_idle_culler"]
    assert config.Spawner.mem_limit == "3G" and config.Spawner.cpu_limit == 1.0
    assert config.JupyterHub.spawner_class == "systemdspawner.SystemdSpawner"  # the one that enforces limits
    assert config.Authenticator.allowed_users == {"boss", "teacher", "t1", "t2"}
    assert [c["title"] for c in config.JupyterHub.template_vars["dangxiao_courses"]] == ["课程一", "课程二"]
    assert config.JupyterHub.template_vars["dangxiao_lessons"]  # the lesson catalog, for the home page
    assert (tmp_path / "hub").stat().st_mode & 0o777 == 0o700
