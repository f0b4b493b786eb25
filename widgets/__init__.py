"""dangxiao.widgets: the interactive pieces of every lesson and exercise (ipywidgets, offline).

    from dangxiao.widgets import Quiz, QuizGroup, AnswerStore, CaseExplorer, indicator_chart, Scenario, Reflection

Every widget is displayable as the last expression of a cell. See widgets/README.md for the design of
answers that persist and are graded.
"""
from .store import AnswerStore
from .quiz import Quiz, QuizGroup

__all__ = ["AnswerStore", "Quiz", "QuizGroup"]
