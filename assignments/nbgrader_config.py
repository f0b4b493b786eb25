"""nbgrader course: 基层治理能力提升 · 作业 (course id `jiceng_zhili`).

Read by `dangxiao release / autograde / feedback / lab` and by plain `nbgrader …` run in this folder.
Ids stay ASCII (nbgrader requires it); the Chinese titles people see are in `CourseInfo`.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when this file is loaded)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "jiceng_zhili"
# The exchange lives inside the course (the default /usr/local/share/nbgrader/exchange is often
# unwritable); on a shared server point DANGXIAO_EXCHANGE at a folder every trainee can reach.
c.Exchange.root = os.environ.get("DANGXIAO_EXCHANGE", os.path.join(HERE, "exchange"))

# Assignments enter the gradebook when released (`dangxiao release` = generate_assignment --create);
# trainees when their first submission is autograded. nbgrader 0.9 has no db_assignments option.

# Shown by the dangxiao commands and the guide (nbgrader itself has no display title, PR #1797).
c.CourseInfo.title = "基层治理能力提升专题培训 · 作业"
c.CourseInfo.assignment_titles = {
    "a01": "作业一　“三个坚持”概念测验",
    "a02": "作业二　用 pandas 读武汉的数字",
    "a03": "作业三　法治案例备忘录（问题—原因—对策）",
    "a04": "作业四　12345 热线数据分析（模拟数据）",
    "final": "结业测试（每人一份随机试卷，见 assessments/final.yaml）",
}

# Submissions on USB sticks or by mail: one zip per trainee named `<学员id>.zip` holding the
# assignment's files (the notebook, and answers.json for quiz assignments). nbgrader extracts each
# zip into `downloaded/<assignment>/extracted/<学员id>/`; the trainee id is that folder's name.
c.FileNameCollectorPlugin.named_regexp = r".*/extracted/(?P<student_id>[A-Za-z0-9_\-]+)/(?:.*/)?(?P<file_id>[^/]+)$"
c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".json"]

# Autograde copies the source folder's files over each submission: a trainee's widget answers
# (answers.json, see widgets/README.md) must never be replaced by one left in source/ by a teacher
# who tried the assignment.
c.Autograde.exclude_overwriting = {assignment: ["answers.json"] for assignment in c.CourseInfo.assignment_titles}

# A stuck cell (e.g. `while True: pass`) is interrupted after this many seconds.
c.Execute.timeout = 30

# Trainee code is hostile: every autograde path — `dangxiao autograde`, plain `nbgrader autograde`
# in this folder and the formgrader's Autograde button — runs each kernel in the bubblewrap sandbox
# (dangxiao.grading.sandbox: no course, no gradebook, no network, limits). Its kernel template
# imports these ahead, so each kernel starts with them loaded (side-effect-free modules only).
from dangxiao.grading.autograde import sandboxed_autograde_config  # noqa: E402

c.merge(sandboxed_autograde_config())
c.BubblewrapProvisioner.preload = ["numpy", "pandas", "matplotlib", "dangxiao.data", "dangxiao.grading.selfcheck"]

# Feedback must not show hidden tests (nbgrader #917): strip them, and the failure output they
# produced, before the HTML is written. ClearHiddenTests' own markers are used.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "dangxiao.grading.feedback.ClearHiddenTestsFromFeedback",
    # a test paper's essay rubric and key-point hints are the grader's, not the trainee's
    "dangxiao.grading.essay_hints.HideGraderNotes",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# ... and must work offline: nbgrader's feedback template loads MathJax from a CDN; this one
# (an overlay in dangxiao/grading/templates/feedback/) is the same page without it; the formgrader's
# "Generate Feedback" button uses it too.
from dangxiao.grading.feedback import offline_template_config  # noqa: E402

c.merge(offline_template_config())

# Test papers (assessments/*.yaml, `dangxiao exam build`): each submission's data cell must be only the
# trainee's paper as the server wrote it. A forged cell (code instead of data) is blanked before grading,
# so it earns nothing; without this stock nbgrader would run it.
from dangxiao.grading.exam_paper import SANITIZE_PREPROCESSORS  # noqa: E402

c.Autograde.sanitize_preprocessors = SANITIZE_PREPROCESSORS
