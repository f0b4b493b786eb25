"""deploy/z2jh (cannot run here): structure, and consistency with the locally tested hub config.

No `helm template`: values.yaml and formgrader.yaml are read with PyYAML and compared with what
deploy/jupyterhub derives from the same courses.yaml (groups, roles, services, culler, limits).
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
Z2JH = REPO / "deploy" / "z2jh"


def load_centre_module():
    spec = importlib.util.spec_from_file_location("dangxiao_hub_centre", REPO / "deploy" / "jupyterhub" / "centre.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


centre_module = load_centre_module()


@pytest.fixture(scope="module")
def centre():
    return centre_module.load_centre(REPO / "deploy" / "jupyterhub" / "courses.yaml")


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load((Z2JH / "values.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def manifests():
    return [doc for doc in yaml.safe_load_all((Z2JH / "formgrader.yaml").read_text(encoding="utf-8")) if doc]


def test_values_top_level_is_the_chart_s(values):
    # keys of the z2jh chart's values schema that this file uses; a typo would be ignored by helm
    assert set(values) <= {"hub", "singleuser", "cull", "proxy", "ingress", "prePuller", "scheduling"}
    assert set(values["hub"]) <= {"config", "extraConfig", "services", "networkPolicy"}


def test_same_groups_and_roles_as_the_local_config(values, centre):
    hub_config = values["hub"]["config"]["JupyterHub"]
    assert hub_config["load_groups"] == centre.groups()
    # the chart runs its own culler service with its own role
    local_roles = [r for r in centre.roles() if r["name"] != centre_module.CULLER_SERVICE]
    assert hub_config["load_roles"] == local_roles
    for course in centre.courses:
        assert course.grader in hub_config["load_groups"][course.grader_group]["users"]


def test_same_people_and_token_scopes(values, centre):
    config = values["hub"]["config"]
    assert set(config["Authenticator"]["allowed_users"]) == set(centre.users)
    assert set(config["Authenticator"]["admin_users"]) == set(centre.admins)
    assert config["Authenticator"]["allow_existing_users"] is False
    local = (REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py").read_text(encoding="utf-8")
    for scope in config["KubeSpawner"]["server_token_scopes"]:
        assert f'"{scope}"' in local, scope
    assert config["KubeSpawner"]["group_overrides"]["10-instructors"]["groups"] == [centre_module.INSTRUCTORS_GROUP]


def test_a_formgrader_service_per_course(values, centre, manifests):
    services = values["hub"]["services"]
    assert set(services) == {c.service_name for c in centre.courses}
    for course in centre.courses:
        service = services[course.service_name]
        assert service["url"].startswith("http://formgrader-") and service["url"].endswith(":8888")
        assert service["info"]["课程 / course"] == course.title  # Chinese title, ASCII id
        assert service["info"]["评分 / formgrader"] == course.formgrader_path
    # the example manifest runs the first course's formgrader as the hub expects it
    first = centre.courses[0]
    (deployment,) = [m for m in manifests if m["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["JUPYTERHUB_SERVICE_NAME"] == first.service_name
    assert env["JUPYTERHUB_USER"] == first.grader
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == f"/services/{first.service_name}/"
    assert env["JUPYTERHUB_API_TOKEN"]["secretKeyRef"]["key"] == f"hub.services.{first.service_name}.apiToken"
    (svc,) = [m for m in manifests if m["kind"] == "Service"]
    assert services[first.service_name]["url"] == f"http://{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}"
    assert container["image"] == f"{values['singleuser']['image']['name']}:{values['singleuser']['image']['tag']}"
    # the grader's uid is outside the trainees' range (100000 + hub user id)
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] < 100000
    assert "100000 + spawner.user.id" in values["hub"]["extraConfig"]["10-own-uid"]


def test_storage_exchange_is_shared_and_homes_are_per_user(values, manifests):
    storage = values["singleuser"]["storage"]
    assert storage["type"] == "dynamic" and re.fullmatch(r"\d+Gi", storage["capacity"])
    (volume,) = storage["extraVolumes"]
    (mount,) = storage["extraVolumeMounts"]
    assert mount["name"] == volume["name"]
    assert values["singleuser"]["extraEnv"]["DANGXIAO_EXCHANGE"] == mount["mountPath"]
    claims = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "PersistentVolumeClaim"}
    exchange_claim = claims[volume["persistentVolumeClaim"]["claimName"]]
    assert exchange_claim["spec"]["accessModes"] == ["ReadWriteMany"]
    (deployment,) = [m for m in manifests if m["kind"] == "Deployment"]
    mounts = {m["mountPath"] for m in deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert mount["mountPath"] in mounts  # the formgrader sees the same exchange


def test_culler_limits_image(values):
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    assert values["singleuser"]["memory"]["limit"] and values["singleuser"]["memory"]["guarantee"]
    assert values["singleuser"]["cpu"]["limit"] > 0
    image = values["singleuser"]["image"]
    assert image["name"] and image["tag"] and image["tag"] != "latest"
    assert values["singleuser"]["defaultUrl"] == "/lab"


def test_limits_match_the_local_defaults(values):
    local = (REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py").read_text(encoding="utf-8")
    assert f'env("DANGXIAO_HUB_MEM_LIMIT", "{values["singleuser"]["memory"]["limit"]}")' in local
    assert f'env("DANGXIAO_HUB_CULL_TIMEOUT", "{values["cull"]["timeout"]}")' in local
    override = values["hub"]["config"]["KubeSpawner"]["group_overrides"]["10-instructors"]["spawner_override"]
    assert f'env("DANGXIAO_HUB_INSTRUCTOR_MEM_LIMIT", "{override["mem_limit"]}")' in local
