"""Autograde every submission of an assignment the way the formgrader's "Autograde" button does:
`NbGraderAPI.autograde(assignment, student)` (nbgrader.server_extensions.formgrader.apihandlers
`AutogradeHandler.post`), one student per call, on an API built from the course's config.

    python formgrader_driver.py COURSE ASSIGNMENT    → one JSON line {student: result} on stdout
"""
import json
import sys
from pathlib import Path

from dangxiao.grading.course import course_api

course, assignment = Path(sys.argv[1]), sys.argv[2]
api = course_api(course)
results = {}
for student in sorted(p.name for p in (course / "submitted").iterdir()):
    results[student] = api.autograde(assignment, student)
print(json.dumps(results, ensure_ascii=False))
