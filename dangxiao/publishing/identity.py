"""Sign-in for a site with a roster, on jupyter_server's identity extension point.

`RosterIdentityProvider` is `Voila.identity_provider_class`: every Jupyter handler of the site (gallery,
lessons, kernels, their websockets, the record endpoints) asks it who is signed in, and with nobody signed
in a page redirects to `/login` and an API call gets 403. Template static assets stay public (they are
tornado static handlers). A session is a random token in a signed cookie; the record store keeps only
its hash and its expiry, so signing out, a changed password and expiry hold on every server process.

`KernelOwnerAuthorizer` is `Voila.authorizer_class`: a lesson kernel (its websocket, its REST address)
belongs to the trainee whose page started it; nobody else may reach it, whatever ids they learn.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlparse

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from dangxiao.records.store import SESSION_DAYS, AccountView

__all__ = [
    "SESSION_COOKIE",
    "SignedInUser",
    "RosterIdentityProvider",
    "KernelOwnerAuthorizer",
    "LoginHandler",
    "LogoutHandler",
]

SESSION_COOKIE = "dangxiao_session"  # no hyphen: nginx can hash on $cookie_dangxiao_session


@dataclass
class SignedInUser(User):
    role: str = "trainee"
    class_name: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role in ("instructor", "admin")


def _user(account: AccountView) -> SignedInUser:
    return SignedInUser(username=account.id, name=account.name, display_name=account.name,
                        role=account.role, class_name=account.class_name)


def records_of(handler) -> "RecordStore":  # noqa: F821
    return handler.settings["dangxiao_records"]


async def in_thread(function, *args):
    """Run a (blocking) record-store call off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


class RosterIdentityProvider(IdentityProvider):
    """Trainees and staff of the record store sign in with their id and password."""

    @property
    def auth_enabled(self) -> bool:
        return True

    @property
    def login_available(self) -> bool:
        return True

    def get_handlers(self) -> list[tuple[str, object]]:
        base = self.parent.base_url if self.parent is not None else "/"
        return [(url_path_join(base, "/login"), LoginHandler), (url_path_join(base, "/logout"), LogoutHandler)]

    async def get_user(self, handler: web.RequestHandler) -> SignedInUser | None:
        if getattr(handler, "_jupyter_current_user", None):
            return handler._jupyter_current_user
        token = handler.get_secure_cookie(SESSION_COOKIE, max_age_days=SESSION_DAYS)
        if not token:
            return None
        account = await in_thread(records_of(handler).session_account, token.decode())
        return _user(account) if account else None

    def start_session(self, handler: web.RequestHandler, account: AccountView, token: str) -> None:
        handler.set_secure_cookie(
            SESSION_COOKIE, token, expires_days=SESSION_DAYS, httponly=True, samesite="Lax",
            path=handler.base_url, secure=handler.request.protocol == "https",
        )

    def clear_session(self, handler: web.RequestHandler) -> None:
        handler.clear_cookie(SESSION_COOKIE, path=handler.base_url)


class KernelOwnerAuthorizer(Authorizer):
    """Kernels are their owner's: a request naming another trainee's kernel is refused."""

    def is_authorized(self, handler, user, action: str, resource: str) -> bool:
        if resource != "kernels":
            return True
        kernel_id = getattr(handler, "kernel_id", None) or (handler.path_kwargs or {}).get("kernel_id")
        if kernel_id is None and handler.path_args:
            kernel_id = handler.path_args[0]
        if kernel_id is None:
            return False  # listing or starting kernels is not for the browser
        return handler.kernel_manager.owners.owner(kernel_id) == user.username


def _safe_next(handler, target: str | None) -> str:
    """Only a path on this site, never another host (no open redirect)."""
    default = handler.base_url
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith(handler.base_url) or "\\" in target:
        return default
    return target


class LoginHandler(JupyterHandler):
    """`/login`: a Chinese form with `username` and `password`; failures say only that it failed."""

    def _render(self, message: str = "", username: str = "", status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        template = self.settings["voila_jinja2_env"].get_template("login.html")
        self.finish(template.render(base_url=self.base_url, message=message, username=username,
                                    next=_safe_next(self, self.get_argument("next", None)),
                                    xsrf_form_html=self.xsrf_form_html()))

    @allow_unauthenticated
    def get(self):
        if self.current_user is not None:
            self.redirect(_safe_next(self, self.get_argument("next", None)))
            return
        self._render()

    @allow_unauthenticated
    async def post(self):
        username = self.get_argument("username", "").strip()
        password = self.get_argument("password", "")
        store = records_of(self)
        account = await in_thread(store.authenticate, username, password) if username and password else None
        if account is None:
            self.log.info("sign-in failed for %r from %s", username[:64], self.request.remote_ip)
            self._render("学号或密码不正确，请重试。", username=username, status=401)
            return
        token = await in_thread(store.create_session, account.id)
        self.identity_provider.start_session(self, account, token)
        self.log.info("signed in: %s", account.id)
        self.redirect(_safe_next(self, self.get_argument("next", None)))


class LogoutHandler(JupyterHandler):
    """`/logout`: ends the session on the server too (the cookie alone would not be enough)."""

    @allow_unauthenticated
    async def get(self):
        token = self.get_secure_cookie(SESSION_COOKIE, max_age_days=SESSION_DAYS)
        if token:
            await in_thread(records_of(self).end_session, token.decode())
        self.identity_provider.clear_session(self)
        self.redirect(url_path_join(self.base_url, "login"))
