"""`RedactHiddenTests`: remove hidden-test source from the executed notebook's OUTPUTS."""
from __future__ import annotations

import re

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Integer

from ..hidden_tests import split_hidden

__all__ = ["RedactHiddenTests"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class RedactHiddenTests(NbGraderPreprocessor):
    """Remove hidden-test source from the executed notebook's OUTPUTS.

    Hidden tests reach outputs two ways: IPython tracebacks quote the failing line (stock nbgrader
    shows it in feedback), and trainee code that ran earlier can print later cells' source from an
    IPython hook. Every output line containing a hidden-test line (ANSI colours ignored) is
    replaced. Cell sources and output types are untouched, so grades are the same.
    """

    min_length = Integer(8, help="只删去至少这么长的隐藏测试行 / shortest hidden line worth redacting").tag(config=True)

    def preprocess(self, nb, resources):
        clear = ClearHiddenTests(config=self.config)
        hidden: set[str] = set()
        for cell in nb.cells:
            lines = split_hidden(cell.source, clear.begin_test_delimeter, clear.end_test_delimeter)[1]
            hidden.update(line.strip() for line in lines if len(line.strip()) >= self.min_length)
        if hidden:
            for cell in nb.cells:
                for output in cell.get("outputs", []):
                    self._redact_output(output, hidden)
        return nb, resources

    @staticmethod
    def _redact_text(text: str, hidden: set[str]) -> str:
        lines = text.split("\n")
        for index, line in enumerate(lines):
            plain = _ANSI.sub("", line)
            if any(secret in plain for secret in hidden):
                lines[index] = "[隐藏测试内容已删去 / hidden test redacted]"
        return "\n".join(lines)

    def _redact_output(self, output, hidden: set[str]) -> None:
        if "text" in output:
            output.text = self._redact_text(output.text, hidden)
        if "traceback" in output:
            output.traceback = [self._redact_text(line, hidden) for line in output.traceback]
        if "evalue" in output:
            output.evalue = self._redact_text(output.evalue, hidden)
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/") and isinstance(value, str):
                output.data[mime] = self._redact_text(value, hidden)
