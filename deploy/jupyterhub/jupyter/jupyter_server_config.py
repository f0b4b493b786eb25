"""jupyter_server settings for every single-user server and formgrader service on the hub.

Found through JUPYTER_CONFIG_PATH (set by jupyterhub_config.py). DANGXIAO_SERVER_ROLE says whose
server this is: "user" (trainee), "instructor", or "formgrader" (a course's grading service).
"""
import os

from dangxiao.commands.lab import lab_settings_dir
from dangxiao.publishing.settings import lesson_executor_config

c = get_config()  # noqa: F821

role = os.environ.get("DANGXIAO_SERVER_ROLE", "user")

# Only the course's service grades: in a person's own server the formgrader and the assignment
# creator would make a private course folder in their home that no trainee can submit to.
if role != "formgrader":
    c.ServerApp.jpserver_extensions = {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.validate_assignment": True,
        "nbgrader.server_extensions.assignment_list": True,
        "nbgrader.server_extensions.course_list": role == "instructor",
        # the learning record: lesson pages and kernels send to the hub's records service through it
        "dangxiao.publishing.hub_extension": True,
    }

# Kernels left running by closed tabs (Voila #479, #849): shut them down when idle, so the idle
# culler can then stop the whole server.
c.MappingKernelManager.cull_idle_timeout = 1800
c.MappingKernelManager.cull_interval = 300
c.MappingKernelManager.cull_connected = False

# Voila inside the server (lessons at /user/<name>/voila/render/...): its frontend is built against
# JupyterLab 4.2; these lab extensions fail to load in it and only produce console errors.
# The project's offline template (from `dangxiao serve`, found through JUPYTER_PATH): the stock
# lab template links Font Awesome from a CDN (Voila #539), which an intranet cannot reach.
if os.environ.get("JUPYTER_PATH"):
    c.VoilaConfiguration.template = "dangxiao"
# A stalled lesson cell ends the page with a message after 120 s, as under `dangxiao serve`.
c.merge(lesson_executor_config(120))
c.VoilaConfiguration.extension_denylist = [
    "@jupyter/nbgrader",
    "@jupyter-notebook/lab-extension",
    "@voila-dashboards/jupyterlab-preview",
]
# Inside jupyter_server no `mathjax_url`/`mathjax_config` settings exist, so Voila's page falls back
# to MathJax on cdnjs.cloudflare.com (its frontend keeps the CDN default unless BOTH are null).
# Standalone Voila (`dangxiao serve`) sets both to None: do the same (lessons typeset no LaTeX).
c.ServerApp.tornado_settings = {"mathjax_url": None, "mathjax_config": None}

# JupyterLab's defaults as under `dangxiao lab` (grading/lab_settings/overrides.json): the simplified
# Chinese interface (jupyterlab-language-pack-zh-CN, installed with dangxiao; a user can still pick
# English in 设置 → 语言), no news prompt, no update check.
c.LabApp.app_settings_dir = str(lab_settings_dir())
