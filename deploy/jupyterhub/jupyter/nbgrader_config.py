"""nbgrader settings shared by every server and formgrader service on the hub (nbgrader multi-course).

Found through JUPYTER_CONFIG_PATH, which jupyterhub_config.py points here. A course's own settings
(CourseDirectory.root, course_id, its assignments) live in `nbgrader_config.py` in the course folder,
read by that course's formgrader service from its working directory.
"""
import os

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821

# One exchange for all courses; fetched assignments go to ~/<course_id>/<assignment> so two courses
# with an assignment of the same name never collide.
c.Exchange.root = os.environ.get("DANGXIAO_EXCHANGE", "/srv/dangxiao/exchange")
c.Exchange.path_includes_course = True
# Which courses a person sees comes from their hub groups nbgrader-<id> / formgrade-<id>.
c.Authenticator.plugin_class = JupyterHubAuthPlugin

# Every course's formgrader grades in the bubblewrap sandbox (dangxiao.grading.sandbox), whatever the
# course's own file says: the Autograde button runs trainee code, and trainee code is hostile.
# A course's nbgrader_config.py may add to the lists; `sandboxed()` re-wraps any Execute it names.
from dangxiao.grading.autograde import sandboxed_autograde_config  # noqa: E402

c.merge(sandboxed_autograde_config())
