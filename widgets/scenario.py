"""情景模拟: a branching decision exercise from a YAML file (situation → choices → consequences → debrief).

Scenarios are invented for teaching and always shown as 教学情景（虚构）, never as facts. Schema::

    id: dispute                      # lowercase ASCII
    title: 情景标题
    inspired_by: [yangquan, wuhan]   # optional: source ids whose practice inspired it
    intro: 背景……
    start: s1                        # the first node
    nodes:
      - id: s1
        situation: 你面对的情况……
        choices:                     # no choices = an ending
          - label: 你的做法……
            consequence: 结果……
            next: s2
            rating: good             # good | fair | poor: used in the debrief
      - id: end-good
        situation: 结局……
    debrief: 复盘要点……

`Scenario.from_yaml(path)` validates on load: unknown fields, missing fields, a `next` that names no node,
nodes that cannot be reached or that never lead to an ending all fail with the file, the node and the reason.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import traitlets
import yaml

from dangxiao.errors import DangxiaoError
from dangxiao.questions import ID_PATTERN

from ._datasets import source_title
from .events import lesson_recorder
from .store import AnswerStore

__all__ = ["Scenario", "ScenarioError", "ScenarioScript", "load_scenario"]

FICTION_LABEL = "教学情景（虚构）"
RATINGS = {"good": "妥当", "fair": "尚可", "poor": "欠妥"}
TOP_FIELDS = {"id", "title", "inspired_by", "intro", "start", "nodes", "debrief"}
NODE_FIELDS = {"id", "situation", "choices"}
CHOICE_FIELDS = {"label", "consequence", "next", "rating"}


class ScenarioError(DangxiaoError):
    """A scenario file that does not match the schema."""

    def __init__(self, file: Path | str, node: str | None, field: str | None, reason: str):
        self.file, self.node, self.field, self.reason = str(file), node, field, reason
        where = str(file) + (f": 节点 {node}" if node else "") + (f": 字段 '{field}'" if field else "")
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class ScenarioChoice:
    label: str
    consequence: str
    next: str
    rating: str


@dataclass(frozen=True)
class ScenarioNode:
    id: str
    situation: str
    choices: tuple[ScenarioChoice, ...]

    @property
    def is_ending(self) -> bool:
        return not self.choices


@dataclass(frozen=True)
class ScenarioScript:
    id: str
    title: str
    intro: str
    start: str
    nodes: dict[str, ScenarioNode]
    debrief: str
    inspired_by: tuple[str, ...] = ()
    file: str = ""


def _text(raw: dict, key: str, file: Path, node: str | None) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(file, node, key, "缺少必填文字字段 / missing required text field")
    return value.strip()


def _no_unknown(raw: dict, allowed: set[str], file: Path, node: str | None) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ScenarioError(file, node, unknown[0], "未知字段 / unknown field")


def parse_scenario(document: Any, file: Path | str) -> ScenarioScript:
    file = Path(file)
    if not isinstance(document, dict):
        raise ScenarioError(file, None, None, "文件须是一个映射 / the file must be a mapping")
    _no_unknown(document, TOP_FIELDS, file, None)
    scenario_id = _text(document, "id", file, None)
    if not ID_PATTERN.match(scenario_id):
        raise ScenarioError(file, None, "id", "须为小写 ASCII 字母、数字、- 或 _ / must be lowercase ASCII")
    raw_nodes = document.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise ScenarioError(file, None, "nodes", "须为非空列表 / must be a non-empty list")
    nodes: dict[str, ScenarioNode] = {}
    for raw in raw_nodes:
        if not isinstance(raw, dict):
            raise ScenarioError(file, None, "nodes", "每个节点须是映射 / each node must be a mapping")
        node_id = _text(raw, "id", file, None)
        _no_unknown(raw, NODE_FIELDS, file, node_id)
        if node_id in nodes:
            raise ScenarioError(file, node_id, "id", "节点编号重复 / duplicate node id")
        raw_choices = raw.get("choices") or []
        if not isinstance(raw_choices, list):
            raise ScenarioError(file, node_id, "choices", "须为列表 / must be a list")
        choices = []
        for raw_choice in raw_choices:
            if not isinstance(raw_choice, dict):
                raise ScenarioError(file, node_id, "choices", "每个选项须是映射 / each choice must be a mapping")
            _no_unknown(raw_choice, CHOICE_FIELDS, file, node_id)
            rating = raw_choice.get("rating", "fair")
            if rating not in RATINGS:
                raise ScenarioError(file, node_id, "rating", f"须为 {', '.join(RATINGS)} 之一 / unknown rating '{rating}'")
            choices.append(ScenarioChoice(label=_text(raw_choice, "label", file, node_id),
                                          consequence=_text(raw_choice, "consequence", file, node_id),
                                          next=_text(raw_choice, "next", file, node_id), rating=rating))
        nodes[node_id] = ScenarioNode(node_id, _text(raw, "situation", file, node_id), tuple(choices))
    start = _text(document, "start", file, None)
    if start not in nodes:
        raise ScenarioError(file, None, "start", f"没有编号为 '{start}' 的节点 / no such node")
    for node in nodes.values():
        for choice in node.choices:
            if choice.next not in nodes:
                raise ScenarioError(file, node.id, "next", f"没有编号为 '{choice.next}' 的节点 / no such node")
    reachable, frontier = {start}, [start]
    while frontier:
        for choice in nodes[frontier.pop()].choices:
            if choice.next not in reachable:
                reachable.add(choice.next)
                frontier.append(choice.next)
    unreachable = [n for n in nodes if n not in reachable]
    if unreachable:
        raise ScenarioError(file, unreachable[0], None, "从起点无法到达 / cannot be reached from start")
    # Every node must lead to some ending, or a trainee could be stuck in a loop.
    ends = {n for n, node in nodes.items() if node.is_ending}
    if not ends:
        raise ScenarioError(file, None, "nodes", "没有结局节点（无选项的节点）/ no ending node")
    changed = True
    while changed:
        changed = False
        for node in nodes.values():
            if node.id not in ends and any(c.next in ends for c in node.choices):
                ends.add(node.id)
                changed = True
    stuck = [n for n in nodes if n not in ends]
    if stuck:
        raise ScenarioError(file, stuck[0], "choices", "由此无法走到任何结局 / no ending can be reached from here")
    inspired = document.get("inspired_by") or []
    if not isinstance(inspired, list) or not all(isinstance(s, str) for s in inspired):
        raise ScenarioError(file, None, "inspired_by", "须为来源编号列表 / must be a list of source ids")
    return ScenarioScript(id=scenario_id, title=_text(document, "title", file, None),
                          intro=_text(document, "intro", file, None), start=start, nodes=nodes,
                          debrief=_text(document, "debrief", file, None), inspired_by=tuple(inspired),
                          file=str(file))


def load_scenario(path: Path | str) -> ScenarioScript:
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(path, None, None, "文件不存在 / file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"（第 {mark.line + 1} 行）" if mark else ""
        raise ScenarioError(path, None, None, f"YAML 格式错误{line} / malformed YAML") from None
    return parse_scenario(document, path)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


class Scenario(widgets.VBox):
    """The exercise: read the situation, pick a course of action, see what follows, then the debrief."""

    node_id = traitlets.Unicode("", help="当前节点 / the node shown")
    path = traitlets.List(traitlets.Int(), help="已作的选择（各节点选项序号）/ the choices made so far")
    finished = traitlets.Bool(False, help="已到结局 / an ending was reached")

    def __init__(self, script: ScenarioScript, store: AnswerStore | None = None, **kwargs):
        self.script = script
        self.store = store
        inspired = "、".join(source_title(s, with_author=False) for s in script.inspired_by)
        hint = f"思路参考{html.escape(inspired)}中的做法。" if inspired else ""
        self.banner = widgets.HTML(
            f"<div style='background:#fff4e5;border-left:4px solid #e08a00;padding:4px 8px'>"
            f"<b>{FICTION_LABEL}</b>：以下人物和情节为教学编写，并非真实事件。{hint}</div>")
        self.title_html = widgets.HTML(f"<h3>{html.escape(script.title)}</h3>{_paragraphs(script.intro)}")
        self.story_html = widgets.HTML()
        self.choice_box = widgets.VBox()
        self.restart_button = widgets.Button(description="重新开始")
        self.restart_button.on_click(lambda _: self.restart())
        super().__init__(children=[self.banner, self.title_html, self.story_html, self.choice_box], **kwargs)
        self.add_class("dangxiao-scenario")
        saved = store.get(f"{script.id}") if store is not None else None
        self.recorder = None  # set below: the first restart is not a choice of the trainee's
        self.restart(save=False)
        if isinstance(saved, list):
            self._replay(saved)
        self.recorder = lesson_recorder()
        if self.recorder is not None:
            self.recorder.when_restored(script.id, self._restore)

    def _restore(self, saved) -> None:
        if not isinstance(saved, list) or self.path:
            return  # the trainee has already chosen on this page
        recorder, self.recorder = self.recorder, None
        try:
            self._replay(saved)
        finally:
            self.recorder = recorder

    @classmethod
    def from_yaml(cls, path: Path | str, store: AnswerStore | None = None) -> "Scenario":
        return cls(load_scenario(path), store=store)

    @property
    def node(self) -> ScenarioNode:
        return self.script.nodes[self.node_id]

    @property
    def choice_buttons(self) -> list[widgets.Button]:
        if self.finished:
            return []
        return list(self.choice_box.children[0].children)

    def restart(self, save: bool = True) -> None:
        self.path = []
        self._log: list[tuple[ScenarioChoice, ScenarioNode]] = []
        self._go(self.script.start)
        if save and self.store is not None:
            self.store.set(self.script.id, [])
        if save and self.recorder is not None:
            self.recorder.scenario(self.script.id, [])

    def choose(self, index: int) -> None:
        """Take choice `index` of the current node, as clicking its button does."""
        choices = self.node.choices
        if not 0 <= index < len(choices):
            raise IndexError(f"本节点只有 {len(choices)} 个选项 / this node has {len(choices)} choices")
        choice = choices[index]
        self._log.append((choice, self.node))
        self.path = [*self.path, index]
        self._go(choice.next)
        if self.store is not None:
            self.store.set(self.script.id, list(self.path))
        if self.recorder is not None:
            self.recorder.scenario(self.script.id, list(self.path))

    def _replay(self, indices: list) -> None:
        for index in indices:
            if not isinstance(index, int) or not 0 <= index < len(self.node.choices):
                break  # a stale saved path (the scenario changed): keep what still fits
            self._choose_quietly(index)

    def _choose_quietly(self, index: int) -> None:
        store, self.store = self.store, None
        recorder, self.recorder = getattr(self, "recorder", None), None
        try:
            self.choose(index)
        finally:
            self.store, self.recorder = store, recorder

    def _go(self, node_id: str) -> None:
        self.node_id = node_id
        node = self.node
        parts = []
        if self._log:
            choice = self._log[-1][0]
            parts.append(f"<div style='color:#555'><b>你的选择：</b>{html.escape(choice.label)}<br>"
                         f"<b>结果：</b>{html.escape(choice.consequence)}</div><hr>")
        parts.append(_paragraphs(node.situation))
        if node.is_ending:
            self.finished = True
            review = "".join(
                f"<li>{html.escape(c.label)} —— <b>{RATINGS[c.rating]}</b></li>" for c, _ in self._log)
            parts.append(f"<h4>复盘 · 你的选择</h4><ol>{review}</ol><h4>复盘要点</h4>{_paragraphs(self.script.debrief)}")
            buttons = [self.restart_button]
        else:
            self.finished = False
            # Long Chinese labels would be cut off on buttons: list them, and keep the buttons short.
            letters = [chr(ord("A") + i) for i in range(len(node.choices))]
            listing = "".join(f"<li><b>{letter}.</b> {html.escape(c.label)}</li>"
                              for letter, c in zip(letters, node.choices))
            parts.append(f"<p><b>你会怎么做？</b></p><ul style='list-style:none;padding-left:0'>{listing}</ul>")
            buttons = []
            for index, letter in enumerate(letters):
                button = widgets.Button(description=f"选择 {letter}", tooltip=node.choices[index].label)
                button.on_click(lambda _, i=index: self.choose(i))
                buttons.append(button)
            buttons = [widgets.HBox(buttons)]
        self.story_html.value = "".join(parts)
        self.choice_box.children = buttons
