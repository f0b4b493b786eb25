"""Seminar (研讨) guides, one per module: `courses/seminars/<module>.yaml`.

    module: m3
    title: 哪一项做法适合我们这里……
    minutes: 75                       # classroom time; the steps' minutes must add up to it
    lesson: m3-l6                     # the lesson whose 研讨指南 section shows it
    goal: 学员能……
    questions: [研讨题, …]
    procedure: [{step: 导入, minutes: 5, what: …}, …]
    outline: [发言提纲的要点, …]
    good_contribution: [好的发言包含什么, …]
    sources: [yangquan, …]

The same guide is shown in its lesson (`dangxiao.lessons.seminar_guide`) and printed as a standalone
page (`dangxiao seminar m3 --out 研讨指南_m3.html`, A4, no external resource). Guides are content
apart from code; they are validated on load (pydantic) and by `dangxiao validate`.
"""
from __future__ import annotations

import html
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dangxiao.errors import DangxiaoError

__all__ = ["Step", "Seminar", "seminars_dir", "load_seminar", "load_seminars", "seminar_html", "seminar_page"]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: str = Field(min_length=1)
    minutes: int = Field(gt=0)
    what: str = Field(min_length=1)


class Seminar(BaseModel):
    model_config = ConfigDict(extra="forbid")
    module: str = Field(pattern=r"^m[0-9]+$")
    title: str = Field(min_length=1)
    minutes: int = Field(gt=0)
    lesson: str = Field(min_length=1)
    goal: str = Field(min_length=1)
    questions: list[str] = Field(min_length=1)
    procedure: list[Step] = Field(min_length=1)
    outline: list[str] = Field(min_length=1)
    good_contribution: list[str] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)

    @field_validator("questions", "outline", "good_contribution")
    @classmethod
    def _no_empty_item(cls, items: list[str]) -> list[str]:
        if any(not str(item).strip() for item in items):
            raise ValueError("有空的条目 / empty item")
        return items

    @model_validator(mode="after")
    def _steps_fill_the_time(self) -> "Seminar":
        total = sum(step.minutes for step in self.procedure)
        if total != self.minutes:
            raise ValueError(f"各环节时间合计 {total} 分钟，与 minutes: {self.minutes} 不符 / steps do not add up")
        return self


def seminars_dir(courses: Path | str | None = None) -> Path:
    from dangxiao.paths import courses_dir

    return Path(courses or courses_dir()) / "seminars"


def load_seminar(module: str, courses: Path | str | None = None) -> Seminar:
    """The guide of one module; a missing or malformed file raises `DangxiaoError` naming it."""
    path = seminars_dir(courses) / f"{module}.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DangxiaoError(f"{path}: 没有这个模块的研讨指南 / no seminar guide for module {module}") from None
    except yaml.YAMLError as error:
        raise DangxiaoError(f"{path}: YAML 格式错误 / malformed YAML: {str(error).splitlines()[0]}") from None
    try:
        seminar = Seminar.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "（顶层）"
        raise DangxiaoError(f"{path}: 字段 '{field}': {first['msg']}") from None
    if seminar.module != module:
        raise DangxiaoError(f"{path}: module '{seminar.module}' 与文件名不符 / module differs from the file name")
    return seminar


def load_seminars(courses: Path | str | None = None) -> list[Seminar]:
    return [load_seminar(path.stem, courses) for path in sorted(seminars_dir(courses).glob("*.yaml"))]


def _items(items: list[str], tag: str = "ul") -> str:
    return f"<{tag}>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + f"</{tag}>"


def seminar_html(seminar: Seminar) -> str:
    """The guide as an HTML fragment (shown in a lesson, and the body of the printable page)."""
    steps = "".join(f"<tr><td>{html.escape(s.step)}</td><td>{s.minutes} 分钟</td><td>{html.escape(s.what)}</td></tr>"
                    for s in seminar.procedure)
    return (
        f'<div class="dx-seminar"><h3>研讨：{html.escape(seminar.title)}</h3>'
        f"<p><b>时间</b>：{seminar.minutes} 分钟　<b>目标</b>：{html.escape(seminar.goal)}</p>"
        f"<h4>研讨题</h4>{_items(seminar.questions, 'ol')}"
        f"<h4>流程与时间</h4><table><tr><th>环节</th><th>时间</th><th>做什么</th></tr>{steps}</table>"
        f"<h4>发言提纲</h4>{_items(seminar.outline, 'ol')}"
        f"<h4>好的发言包含什么</h4>{_items(seminar.good_contribution)}</div>"
    )


_PAGE_STYLE = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", sans-serif; line-height: 1.6;
       max-width: 48em; margin: 0 auto; color: #111; }
h1 { font-size: 1.35em; border-bottom: 2px solid #b22222; padding-bottom: 4px; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #999; padding: 4px 8px; text-align: left; }
.dx-note { color: #555; font-size: 0.9em; }
"""


def seminar_page(seminar: Seminar, module_title: str = "", sources: list[str] | None = None) -> str:
    """A standalone printable page (no external resource): the guide plus its module and sources."""
    heading = f"{module_title} · 课堂研讨指南" if module_title else "课堂研讨指南"
    cited = _items(sources) if sources else ""
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(heading)}</title><style>{_PAGE_STYLE}</style></head><body>"
        f"<h1>{html.escape(heading)}</h1>{seminar_html(seminar)}"
        + (f"<h4>资料来源</h4>{cited}" if cited else "")
        + '<p class="dx-note">本页由 dangxiao seminar 生成，内容来自 courses/seminars/。</p></body></html>\n'
    )
