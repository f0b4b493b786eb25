"""dangxiao.widgets: the interactive pieces of every lesson and exercise (ipywidgets, offline).

    from dangxiao.widgets import Quiz, QuizGroup, AnswerStore, CaseExplorer, indicator_chart, Scenario, Reflection

Every widget is displayable as the last expression of a cell. See widgets/README.md for the design of
answers that persist and are graded; `dangxiao.widgets.fonts.use_cjk_font()` sets up Chinese in charts.
"""
import importlib

# Each name is imported on first use: a lesson that shows only a quiz never loads matplotlib,
# which is most of a kernel's start-up time in Voila.
_EXPORTS = {
    "AnswerStore": ".store",
    "AnswerStoreWarning": ".store",
    "CaseExplorer": ".explorer",
    "Quiz": ".quiz",
    "QuizGroup": ".quiz",
    "Reflection": ".reflection",
    "Scenario": ".scenario",
    "ScenarioError": ".scenario",
    "hotline_chart": ".charts",
    "indicator_chart": ".charts",
}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
