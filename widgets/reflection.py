"""A text area for 思考题 whose text is kept (in the answer store when one is given)."""
from __future__ import annotations

import html

import ipywidgets as widgets
import traitlets

from dangxiao.questions import ID_PATTERN, QuestionBankError

from .events import lesson_recorder
from .quiz import rich_text
from .store import AnswerStore

__all__ = ["Reflection"]


class Reflection(widgets.VBox):
    """`Reflection("m1-r1", "结合本单位实际，谈谈……", store=store)`: the text is saved as it is typed."""

    text = traitlets.Unicode("", help="学员写下的文字 / the trainee's text")
    status = traitlets.Unicode("", help="保存状态 / save status shown under the box")

    def __init__(self, reflection_id: str, prompt: str, store: AnswerStore | None = None,
                 placeholder: str = "在此写下你的思考……", **kwargs):
        if not isinstance(reflection_id, str) or not ID_PATTERN.match(reflection_id):
            raise QuestionBankError("<notebook>", str(reflection_id), "id",
                                    "须为小写 ASCII 字母、数字、- 或 _ / must be lowercase ASCII, digits, - or _")
        self.reflection_id = reflection_id
        self.store = store
        self.textarea = widgets.Textarea(placeholder=placeholder, rows=6,
                                         layout=widgets.Layout(width="100%"))
        self.status_label = widgets.HTML()
        header = widgets.HTML(f"<b>【思考题】</b>{rich_text(prompt)}")
        super().__init__(children=[header, self.textarea, self.status_label], **kwargs)
        self.add_class("dangxiao-reflection")
        saved = store.get(reflection_id) if store is not None else None
        if isinstance(saved, str):
            self.textarea.value = saved
            self.text = saved
            self._set_status(f"已载入上次保存的文字（{len(saved)} 字）。")
        # Keep the box and the trait in step both ways; save on every change.
        traitlets.link((self.textarea, "value"), (self, "text"))
        self.observe(self._save, "text")
        # On the published site the text is the trainee's learning record: what they wrote last time
        # comes back when the page is handed to them.
        self.recorder = lesson_recorder()
        self._restoring = False
        if self.recorder is not None:
            self.recorder.when_restored(reflection_id, self._restore)

    def _restore(self, saved) -> None:
        if not isinstance(saved, str) or self.text:
            return  # the trainee has already typed here: their new text wins
        self._restoring = True
        try:
            self.text = saved
        finally:
            self._restoring = False
        self._set_status(f"已载入你上次写下的文字（{len(saved)} 字）。")

    def _save(self, change) -> None:
        if self.recorder is not None:
            if not self._restoring:
                self.recorder.note(self.reflection_id, change["new"])
                self._set_status(f"已自动保存到学习记录（{len(change['new'])} 字）。")
            return
        if self.store is None:
            self._set_status(f"已写 {len(change['new'])} 字（本页不保存，刷新后会清空）。")
            return
        self.store.set(self.reflection_id, change["new"])
        self._set_status(f"已自动保存（{len(change['new'])} 字）。")

    def _set_status(self, text: str) -> None:
        self.status = text
        self.status_label.value = f"<span style='color:#555'>{html.escape(text)}</span>"
