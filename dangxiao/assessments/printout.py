"""The instructor's printout of one trainee's paper, as Markdown (the Word file is built from the same
blocks by `dangxiao exam paper -o FILE.docx`).

`paper_blocks` yields (kind, text) pairs — heading, paragraph, option, key — so the two renderers
cannot drift apart; `paper_markdown` joins them. With `key=True` each item is followed by its answer,
explanation and source: that version is for the instructor only.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from dangxiao.assessments.paper import TRUE_FALSE_OPTIONS, TYPE_LABELS, Paper, rubric_lines
from dangxiao.questions import Question

__all__ = ["paper_blocks", "paper_markdown"]


def _key_text(question: Question, options: tuple[str, ...]) -> str:
    def letter(text: str) -> str:
        return f"{chr(65 + options.index(text))}. {text}" if text in options else text

    if question.type == "single":
        return letter(question.answer)
    if question.type == "multiple":
        return "；".join(sorted((letter(a) for a in question.answer)))
    if question.type == "truefalse":
        return TRUE_FALSE_OPTIONS[0] if question.answer else TRUE_FALSE_OPTIONS[1]
    if question.type == "fill":
        return "；".join((question.answer, *question.accepted))
    if question.type == "numeric":
        return f"{question.answer:g}" + (f"（允许误差 ±{question.tolerance:g}）" if question.tolerance else "")
    if question.type == "matching":
        return "；".join(f"{k} → {v}" for k, v in question.pairs)
    if question.type == "ordering":
        return " → ".join(question.items)
    rubric = rubric_lines(question)
    if rubric:
        return "评分要点：" + "；".join(rubric)
    return "（人工评分 / graded by hand）"


def paper_blocks(paper: Paper, bank: Mapping[str, Question], key: bool = False) -> Iterator[tuple[str, str]]:
    title = f"{paper.title}（{paper.assessment_id}）"
    yield "title", title + ("　答案卷" if key else "")
    limit = f"限时 {paper.time_limit} 分钟，" if paper.time_limit else ""
    yield "paragraph", (f"学员 / trainee: {paper.trainee_id}　第 {paper.attempt} 次作答　{limit}满分 {paper.max_points:g} 分，"
                        f"及格 {paper.pass_mark:g}%　试卷种子 / seed: {paper.seed[:12]}")
    section = None
    for item in paper.items:
        if item.type != section:
            section = item.type
            count = sum(1 for i in paper.items if i.type == section)
            yield "heading", f"{TYPE_LABELS.get(section, section)}（共 {count} 题，每题 {item.points:g} 分）"
        yield "item", f"{item.position}. {item.stem}"
        if item.type == "matching":
            yield "option", "左侧：" + "；".join(item.left)
            yield "option", "右侧：" + "；".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(item.options))
        elif item.type == "truefalse":
            yield "option", "　".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(TRUE_FALSE_OPTIONS))
        else:
            for i, option in enumerate(item.options):
                yield "option", f"{chr(65 + i)}. {option}"
        if key:
            question = bank[item.item_id]
            shown = TRUE_FALSE_OPTIONS if item.type == "truefalse" else item.options
            yield "key", f"答案：{_key_text(question, shown)}　（{item.item_id}，来源 {question.source}）"
            if question.explanation:
                yield "key", f"解析：{question.explanation}"


def paper_markdown(paper: Paper, bank: Mapping[str, Question], key: bool = False) -> str:
    lines: list[str] = []
    previous = None
    for kind, text in paper_blocks(paper, bank, key):
        if kind == "title":
            lines += [f"# {text}", ""]
        elif kind == "heading":
            lines += ["", f"## {text}"]
        elif kind == "item":
            lines += ["", text, ""]
        elif kind == "option":
            lines.append(f"- {text}")
        elif kind == "key":
            if previous != "key":
                lines.append("")
            lines.append(f"> {text}  ")
        else:
            lines += [text]
        previous = kind
    return "\n".join(lines).rstrip() + "\n"
