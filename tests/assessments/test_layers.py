"""dangxiao.assessments is core: it imports no higher part (records, widgets, grading, publishing)."""
import subprocess
import sys


def test_assessments_import_only_core():
    code = ("import sys, dangxiao.assessments, dangxiao.assessments.nbgrader_route, dangxiao.assessments.timing, "
            "dangxiao.assessments.printout\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('dangxiao.grading', 'dangxiao.widgets', "
            "'dangxiao.publishing', 'dangxiao.records', 'dangxiao.commands', 'nbgrader', 'docx', 'ipywidgets')))\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
