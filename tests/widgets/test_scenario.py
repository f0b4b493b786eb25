"""Scenario: the shipped example is valid and playable; bad YAML fails with the file, the node and the reason."""
from __future__ import annotations

import textwrap

import pytest
import yaml

from dangxiao.widgets import AnswerStore, Scenario, ScenarioError
from dangxiao.widgets.scenario import parse_scenario
from dangxiao.widgets.scenarios import scenario_path

EXAMPLE = scenario_path("dispute")


def test_example_is_labelled_fiction_and_every_path_reaches_an_ending():
    scenario = Scenario.from_yaml(EXAMPLE)
    assert "教学情景（虚构）" in scenario.banner.value and "并非真实事件" in scenario.banner.value
    assert "思路参考《" in scenario.banner.value and "《深入推进以党建引领基层治理" in scenario.banner.value
    assert scenario.node_id == "s1" and not scenario.finished
    # Walk every route (depth-first over choice indices): each ends with the debrief.
    routes, endings = [[]], set()
    while routes:
        route = routes.pop()
        scenario.restart()
        for index in route:
            scenario.choose(index)
        if scenario.finished:
            endings.add(scenario.node_id)
            assert "复盘要点" in scenario.story_html.value
            assert scenario.restart_button in scenario.choice_box.children
            continue
        assert len(route) < 10, "a route does not end"
        routes.extend(route + [i] for i in range(len(scenario.node.choices)))
    assert endings == {"end-good", "end-fair", "end-poor"}


def test_buttons_drive_it_and_the_review_lists_the_choices():
    scenario = Scenario.from_yaml(EXAMPLE)
    scenario.choice_buttons[0].click()
    assert scenario.node_id == "s2" and scenario.path == [0]
    assert "你的选择" in scenario.story_html.value
    scenario.choice_buttons[0].click()
    scenario.choice_buttons[0].click()
    assert scenario.finished and scenario.node_id == "end-good"
    assert scenario.story_html.value.count("妥当") == 3
    scenario.restart_button.click()
    assert scenario.node_id == "s1" and scenario.path == []


def test_progress_is_kept_in_the_store(tmp_path):
    store = AnswerStore(tmp_path / "answers.json")
    scenario = Scenario.from_yaml(EXAMPLE, store=store)
    scenario.choose(1)
    assert AnswerStore(tmp_path / "answers.json").get("dispute") == [1]
    again = Scenario.from_yaml(EXAMPLE, store=AnswerStore(tmp_path / "answers.json"))
    assert again.node_id == "s-escalated" and again.path == [1]


def _write(tmp_path, document) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return str(path)


def _base():
    return {"id": "t", "title": "标题", "intro": "背景", "start": "a", "debrief": "复盘",
            "nodes": [{"id": "a", "situation": "情况", "choices": [
                {"label": "做法", "consequence": "结果", "next": "end", "rating": "good"}]},
                      {"id": "end", "situation": "结局"}]}


@pytest.mark.parametrize("breakage, node, reason", [
    (lambda d: d["nodes"][0]["choices"][0].update(next="nowhere"), "a", "没有编号为 'nowhere' 的节点"),
    (lambda d: d["nodes"].append({"id": "orphan", "situation": "孤立"}), "orphan", "无法到达"),
    (lambda d: d["nodes"][1].update(choices=[{"label": "绕回", "consequence": "又回来", "next": "a"}]),
     None, "没有结局节点"),
    (lambda d: d["nodes"][0]["choices"][0].update(rating="excellent"), "a", "unknown rating"),
    (lambda d: d["nodes"][0].update(colour="red"), "a", "未知字段"),
    (lambda d: d.pop("debrief"), None, "缺少必填文字字段"),
    (lambda d: d.update(start="zzz"), None, "没有编号为 'zzz' 的节点"),
])
def test_bad_scenario_names_file_node_and_reason(tmp_path, breakage, node, reason):
    document = _base()
    parse_scenario(document, "ok.yaml")  # the base document is valid: only the breakage fails it
    breakage(document)
    path = _write(tmp_path, document)
    with pytest.raises(ScenarioError) as error:
        Scenario.from_yaml(path)
    assert path in str(error.value) and reason in str(error.value)
    assert error.value.node == node


def test_loop_without_exit_is_refused(tmp_path):
    document = _base()
    document["nodes"][0]["choices"].append({"label": "兜圈", "consequence": "……", "next": "loop"})
    document["nodes"].append({"id": "loop", "situation": "循环",
                              "choices": [{"label": "再来", "consequence": "……", "next": "loop"}]})
    with pytest.raises(ScenarioError, match="无法走到任何结局") as error:
        Scenario.from_yaml(_write(tmp_path, document))
    assert error.value.node == "loop"


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(textwrap.dedent("id: t\nnodes: [\n  - oops: : :\n"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="YAML"):
        Scenario.from_yaml(path)
