"""dangxiao.widgets: the interactive pieces of every lesson and exercise (ipywidgets, offline).

    from dangxiao.widgets import Quiz, QuizGroup, AnswerStore, CaseExplorer, indicator_chart, Scenario, Reflection

Every widget is displayable as the last expression of a cell. See widgets/README.md for the design of
answers that persist and are graded; `dangxiao.widgets.fonts.use_cjk_font()` sets up Chinese in charts.
"""
from .charts import hotline_chart, indicator_chart
from .explorer import CaseExplorer
from .quiz import Quiz, QuizGroup
from .reflection import Reflection
from .scenario import Scenario, ScenarioError
from .store import AnswerStore, AnswerStoreWarning

__all__ = [
    "AnswerStore",
    "AnswerStoreWarning",
    "CaseExplorer",
    "Quiz",
    "QuizGroup",
    "Reflection",
    "Scenario",
    "ScenarioError",
    "hotline_chart",
    "indicator_chart",
]
