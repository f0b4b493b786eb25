"""JupyterHub for a party-school training centre: many trainees, several nbgrader courses, one machine.

    sudo DANGXIAO_HUB_COURSES=/srv/dangxiao/courses.yaml \\
         jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

What it sets up (see deploy/README.md for the walk-through):

* people: every user in `courses.yaml` is a system account (PAM login, LocalProcessSpawner: each
  server runs as its owner, homes are 0700). Groups: `instructors`, `trainees`, and per course nbgrader's
  `nbgrader-<id>` (fetch/submit) and `formgrade-<id>` (grade), with RBAC roles (JupyterHub >= 2).
* courses: nbgrader's multi-course setup. One shared exchange folder (`DANGXIAO_EXCHANGE`, course
  id in the path); per course a formgrader service `/services/<id>/formgrader/` run as the course's
  grader account in its course folder. course_id stays ASCII; the Chinese title is what the pages show.
* each person's server: JupyterLab with nbgrader's assignment list, and Voila: lessons at
  `/user/<name>/voila/render/lessons/<notebook>` (`~/lessons` links to the shared lesson folder).
* the idle culler (jupyterhub-idle-culler) as a hub service; memory/CPU limits per user.
* the learning record: the service `dangxiao-records` (`dangxiao records-service`, hub OAuth) keeps what
  trainees do in the lessons; each user server forwards its pages' and lesson kernels' events to it
  with its own hub token (`dangxiao.publishing.hub_extension`). 我的学习 at /services/dangxiao-records/me.

Everything a centre changes is an environment variable (defaults in brackets):

    DANGXIAO_HUB_COURSES   courses and rosters            [deploy/jupyterhub/courses.yaml]
    DANGXIAO_HUB_DATA      hub state: database, secrets   [/srv/dangxiao/hub]
    DANGXIAO_HUB_COURSE_ROOT  course folders <root>/<id>  [/srv/dangxiao/courses]
    DANGXIAO_EXCHANGE      nbgrader exchange              [/srv/dangxiao/exchange]
    DANGXIAO_LESSONS       lesson notebooks (Voila)       [<repo>/courses]
    DANGXIAO_HUB_IP / _PORT   public address              [0.0.0.0 / 8000]
    DANGXIAO_HUB_API_PORT  the hub's internal API port    [8081]
    DANGXIAO_HUB_PROXY_API_PORT  the proxy's API port      [8001]
    DANGXIAO_HUB_AUTH      pam | shared-password | a class path       [pam]
    DANGXIAO_HUB_PASSWORD  the password for shared-password (tests, demos only)
    DANGXIAO_HUB_SPAWNER   local | systemd                            [local]
    DANGXIAO_HUB_MEM_LIMIT / _CPU_LIMIT   per trainee               [1G / 1.0]
    DANGXIAO_HUB_INSTRUCTOR_MEM_LIMIT     per instructor            [2G]
    DANGXIAO_HUB_CULL_TIMEOUT   stop servers idle this long (s)      [3600]
    DANGXIAO_HUB_PROXY     configurable-http-proxy command            [found on PATH]
    DANGXIAO_HUB_BIN       bin/ of the venv servers run from          [the hub's own]
    DANGXIAO_RECORDS_ACCOUNT  the account the records service runs as  [dangxiao-records]
    DANGXIAO_RECORDS_DB    the learning record (SQLAlchemy URL)  [sqlite:///<that account's home>/records.sqlite]
    DANGXIAO_HUB_RECORDS_PORT  the records service's local port       [8091]

Limits: `Spawner.mem_limit` / `cpu_limit` are only *enforced* by spawners that own a cgroup:
systemdspawner (`DANGXIAO_HUB_SPAWNER=systemd`, one machine) or KubeSpawner (deploy/z2jh). With
LocalProcessSpawner they only reach the server as MEM_LIMIT / CPU_LIMIT environment variables.

The formgrader inside JupyterHub >= 4.1 (nbgrader #1870): single-user servers send
`Content-Security-Policy: frame-ancestors 'none'`, so the formgrader tab JupyterLab opens in an iframe
stays blank. We keep that protection (nbgrader reverted its own relaxation, #1947, for security) and
open the formgrader in its own browser tab instead: the hub home page links each instructor's
`/services/<id>/formgrader/` directly, and instructors' JupyterLab hides the iframe-based
formgrader menu. The Voila preview pane inside JupyterLab is blocked the same way; lessons open in
their own tab at /user/<name>/voila/render/...
"""
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# The venv servers and services run from (default: the hub's own). Every account must be able to
# run it: install it somewhere world-readable, e.g. /opt/dangxiao/venv, never under /root.
BIN = Path(os.environ.get("DANGXIAO_HUB_BIN", "") or Path(sys.executable).parent)


def env(name, default):
    return os.environ.get(name, "") or default


def _load_centre_module():
    spec = importlib.util.spec_from_file_location("dangxiao_hub_centre", HERE / "centre.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


centre_module = _load_centre_module()
centre = centre_module.load_centre(env("DANGXIAO_HUB_COURSES", HERE / "courses.yaml"))

DATA = Path(env("DANGXIAO_HUB_DATA", "/srv/dangxiao/hub"))
COURSE_ROOT = Path(env("DANGXIAO_HUB_COURSE_ROOT", "/srv/dangxiao/courses"))
EXCHANGE = Path(env("DANGXIAO_EXCHANGE", "/srv/dangxiao/exchange"))
LESSONS = Path(env("DANGXIAO_LESSONS", REPO / "courses"))
# Tests without code (blueprints, taken at /services/dangxiao-records/exam/<id>) and where the records
# service leaves the finished papers for each course's grader (setup_centre.py makes the folders).
ASSESSMENTS = Path(env("DANGXIAO_HUB_ASSESSMENTS", REPO / "assignments" / "assessments"))
EXAM_OUTBOX = Path(env("DANGXIAO_HUB_EXAM_OUTBOX", "/srv/dangxiao/exam-outbox"))
JUPYTER_CONFIG = HERE / "jupyter"  # nbgrader + jupyter_server settings for every server and service
DATA.mkdir(parents=True, exist_ok=True)
os.chmod(DATA, 0o700)  # the cookie secret and the database are the hub's alone

# --- the hub ------------------------------------------------------------------------------------
c.JupyterHub.ip = env("DANGXIAO_HUB_IP", "0.0.0.0")
c.JupyterHub.port = int(env("DANGXIAO_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("DANGXIAO_HUB_API_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{DATA / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(DATA / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(DATA / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(DATA / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('DANGXIAO_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [env("DANGXIAO_HUB_PROXY", shutil.which("configurable-http-proxy")
                                       or "configurable-http-proxy")]
c.JupyterHub.internal_ssl = False  # one machine, loopback only between hub, proxy and servers

# --- who logs in --------------------------------------------------------------------------------
auth = env("DANGXIAO_HUB_AUTH", "pam")
if auth == "pam":
    c.JupyterHub.authenticator_class = "pam"  # the centre's system accounts (setup_centre.py)
elif auth == "shared-password":
    # Tests and demos only: everybody in the roster logs in with one password.
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = os.environ["DANGXIAO_HUB_PASSWORD"]
else:
    c.JupyterHub.authenticator_class = auth  # e.g. "ldapauthenticator.LDAPAuthenticator"
c.Authenticator.allowed_users = set(centre.users)
c.Authenticator.admin_users = set(centre.admins)
# Only the roster logs in. Grader accounts exist in the hub (created by load_groups) only so nbgrader
# can read their groups; they are not in allowed_users and have no password. (blocked_users would
# strip their groups, and with them the formgrader's view of the course.)
c.Authenticator.allow_existing_users = False
c.Authenticator.manage_groups = False  # groups come from courses.yaml (load_groups below)
c.JupyterHub.load_groups = centre.groups()
RECORDS_SERVICE = "dangxiao-records"
RECORDS_PORT = int(env("DANGXIAO_HUB_RECORDS_PORT", "8091"))
RECORDS_PATH = f"/services/{RECORDS_SERVICE}/"
# Everyone who studies or teaches may reach the records service (each only their own record: the service
# knows callers by their hub token). Their servers' tokens carry the same scope (server_token_scopes).
c.JupyterHub.load_roles = centre.roles() + [{
    "name": RECORDS_SERVICE,
    "description": "学习记录：读写自己的记录 / the learning record: one's own",
    "groups": [centre_module.INSTRUCTORS_GROUP, centre_module.TRAINEES_GROUP],
    "users": list(centre.admins),
    "scopes": [f"access:services!service={RECORDS_SERVICE}"],
}]

# --- each person's server -----------------------------------------------------------------------
spawner = env("DANGXIAO_HUB_SPAWNER", "local")
if spawner == "systemd":
    # Enforces the limits below with cgroups (MemoryMax, CPUQuota); needs `pip install jupyterhub-systemdspawner`
    # and a host booted with systemd. Not exercised by the test suite (the test machine has no systemd).
    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
    c.SystemdSpawner.dynamic_users = False  # real accounts: homes and the exchange rely on their uids
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.disable_user_sudo = True
else:
    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"

c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120  # two cores shared by a class: a cold start can be slow
c.Spawner.http_timeout = 120
try:  # the offline Voila template of `dangxiao serve` (the stock lab template loads Font Awesome from a CDN)
    import dangxiao.publishing

    VOILA_TEMPLATES = str(Path(dangxiao.publishing.__file__).resolve().parent / "templates")
except ImportError:
    VOILA_TEMPLATES = ""
c.Spawner.environment = {
    # nbgrader runs `alembic` from PATH; the venv's tools come first
    "PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
    "JUPYTER_CONFIG_PATH": str(JUPYTER_CONFIG),
    "JUPYTER_PATH": VOILA_TEMPLATES,  # holds voila/templates/dangxiao
    "DANGXIAO_EXCHANGE": str(EXCHANGE),
    "DANGXIAO_SERVER_ROLE": "user",
    # dangxiao.publishing.hub_extension forwards the lessons' events there (loopback, the server's token)
    "DANGXIAO_RECORDS_SERVICE_URL": f"http://127.0.0.1:{RECORDS_PORT}{RECORDS_PATH}",
}
c.Spawner.mem_limit = env("DANGXIAO_HUB_MEM_LIMIT", "1G")
c.Spawner.cpu_limit = float(env("DANGXIAO_HUB_CPU_LIMIT", "1.0"))
c.Spawner.group_overrides = {
    "10-instructors": {
        "groups": [centre_module.INSTRUCTORS_GROUP],
        "spawner_override": {"mem_limit": env("DANGXIAO_HUB_INSTRUCTOR_MEM_LIMIT", "2G"),
                             "environment": {"DANGXIAO_SERVER_ROLE": "instructor"}},
    },
}
# What a server's own token may do: nbgrader's JupyterHubAuthPlugin reads the owner's groups (which
# courses to list), the course list finds the course's formgrader service.
c.Spawner.server_token_scopes = [
    "users:activity!user", "access:servers!server", "read:users:groups!user", "read:users:name!user",
    "list:services", "read:services",
    f"access:services!service={RECORDS_SERVICE}",  # the records service knows the server by its owner
]


def link_lessons(spawner):
    """`~/lessons` -> the shared, read-only lesson folder, so Voila serves it under /user/<name>/voila/."""
    import pwd

    try:
        account = pwd.getpwnam(spawner.user.name)
    except KeyError:  # not a system account (e.g. KubeSpawner): the image ships the lessons
        return
    link = Path(account.pw_dir) / "lessons"
    if not os.path.lexists(link) and LESSONS.is_dir():
        os.symlink(LESSONS, link)
        os.lchown(link, account.pw_uid, account.pw_gid)


c.Spawner.pre_spawn_hook = link_lessons

# --- services: a formgrader per course, the idle culler -----------------------------------------
# JupyterHub >= 6 waits `timeout` s for each service at start (default 30): a formgrader on a busy
# machine needs longer. JupyterHub 5 has no such field and refuses unknown ones.
import jupyterhub  # noqa: E402

service_timeout = {"timeout": 180} if jupyterhub.version_info >= (6,) else {}
services = []
for course in centre.courses:
    course_dir = COURSE_ROOT / course.id
    services.append({
        "name": course.service_name,
        "display": True,
        "info": {"课程 / course": course.title, "评分 / formgrader": course.formgrader_path},
        "url": f"http://127.0.0.1:{course.port}",
        "command": [str(BIN / "jupyterhub-singleuser"), f"--ServerApp.root_dir={course_dir}"],
        "user": course.grader,
        "cwd": str(course_dir),
        "oauth_no_confirm": True,
        **service_timeout,
        "environment": {
            "PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "JUPYTER_CONFIG_PATH": str(JUPYTER_CONFIG),
            "DANGXIAO_EXCHANGE": str(EXCHANGE),
            "DANGXIAO_COURSE": str(course_dir),  # `dangxiao release/autograde` in its terminal
            "DANGXIAO_SERVER_ROLE": "formgrader",
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
        },
    })

cull_timeout = int(env("DANGXIAO_HUB_CULL_TIMEOUT", "3600"))
services.append({
    "name": centre_module.CULLER_SERVICE,
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={cull_timeout}",
                f"--cull-every={max(60, cull_timeout // 10)}", "--concurrency=5"],
})
# The learning record: instructors from courses.yaml get the instructor role in it, each trainee the title
# of their (first) course as class. It runs as its own account (made by setup_centre.py), never as root:
# the record store sits in that account's private home. Without the account it runs as the hub's, with
# the store in DATA (0700).
RECORDS_ACCOUNT = env("DANGXIAO_RECORDS_ACCOUNT", "dangxiao-records")
try:
    import pwd

    records_home = Path(pwd.getpwnam(RECORDS_ACCOUNT).pw_dir)
except (ImportError, KeyError):
    records_home = None
    print(f"jupyterhub_config: 没有账号 {RECORDS_ACCOUNT}（setup_centre.py 会建），学习记录服务以 Hub 的账号运行 / "
          f"no account {RECORDS_ACCOUNT}: the records service runs as the hub's", file=sys.stderr)
records_db = env("DANGXIAO_RECORDS_DB", f"sqlite:///{(records_home or DATA) / 'records.sqlite'}")
trainee_classes, trainee_courses = {}, {}
for course in centre.courses:
    for trainee in course.trainees:
        trainee_classes.setdefault(trainee, course.title)
        trainee_courses.setdefault(trainee, course.id)  # whose grader gets the trainee's test papers
services.append({
    "name": RECORDS_SERVICE,
    "display": True,
    "info": {"学习记录 / learning record": "我的学习、班级学习情况 / my study, class progress"},
    "url": f"http://127.0.0.1:{RECORDS_PORT}",
    "command": [str(BIN / "dangxiao"), "records-service", f"--port={RECORDS_PORT}", f"--db={records_db}",
                f"--courses={LESSONS}", "--staff=" + ",".join([*centre.instructors, *centre.admins]),
                "--classes=" + json.dumps(trainee_classes, ensure_ascii=False),
                f"--assessments={ASSESSMENTS}", f"--exam-outbox={EXAM_OUTBOX}",
                "--exam-courses=" + json.dumps(trainee_courses)],
    "oauth_no_confirm": True,
    **service_timeout,
    **({"user": RECORDS_ACCOUNT, "cwd": str(records_home)} if records_home else {}),
    "environment": {"PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"])},
})
c.JupyterHub.services = services

# --- pages: Chinese course titles, lesson links, the formgrader in its own tab -----------------
try:
    from dangxiao.catalog import load_catalog

    catalog = load_catalog(LESSONS)
    lessons = [{"module": m.title, "title": lesson.title, "notebook": lesson.notebook}
               for m in catalog.modules for lesson in m.lessons]
except Exception as error:  # the hub must still start without the lesson catalog
    print(f"jupyterhub_config: 课程目录不可用 / lesson catalog unavailable: {error}", file=sys.stderr)
    lessons = []

exams = []  # the home page's list of tests; a bad blueprint is left out (the records service says why)
for blueprint_path in sorted(ASSESSMENTS.glob("*.yaml")):
    try:
        from dangxiao.assessments import load_blueprint
        from dangxiao.questions import load_bank

        blueprint = load_blueprint(blueprint_path, bank=load_bank())  # checked as the service checks it
        exams.append({"id": blueprint.id, "title": blueprint.title, "practice": not blueprint.counted})
    except Exception as error:  # the hub must still start
        print(f"jupyterhub_config: 测验蓝图不可用 / blueprint unavailable: {blueprint_path}: {error}", file=sys.stderr)

c.JupyterHub.template_paths = [str(HERE / "templates")]
c.JupyterHub.template_vars = {
    "centre_name": centre.name,
    "dangxiao_courses": centre.template_courses(),
    "dangxiao_lessons": lessons,
    "dangxiao_records_path": RECORDS_PATH,
    "dangxiao_exams": exams,
    "announcement_login": f"{centre.name} · 请用培训中心发放的账号登录 / log in with the account the centre gave you",
}
