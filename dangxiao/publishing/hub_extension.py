"""A JupyterHub user server's side of the learning record: a jupyter_server extension.

Enabled for every user server (`deploy/jupyterhub/jupyter/jupyter_server_config.py`), active only when
`$DANGXIAO_RECORDS_SERVICE_URL` names the hub's records service (`hub_service`; the spawner's environment
sets it). It gives the lesson pages and kernels of this server the addresses `dangxiao serve` gives them,
and forwards what they send to the service, authenticated by this server's own hub token — which the hub
resolves to this server's owner, so nothing sent from here can land in another trainee's record:

    GET  <base_url>dangxiao/api/me               who is signed in (the hub user) and where the links go
    POST <base_url>dangxiao/api/events           the page's heartbeats (jupyter_server's auth and XSRF)
    POST <base_url>dangxiao/api/kernel-events    a lesson kernel's events, HMAC-signed with its session key
    GET  <base_url>dangxiao/api/kernel-identity  a lesson kernel asks for its trainee's saved answers

A lesson kernel knows its page from `$SCRIPT_NAME` (Voila sets it for the kernel it starts for a request)
and sends it with its events. A refusal of the service is passed on with its status; the service out of
reach is a 503, so the page and the kernel keep their events and retry.
"""
from __future__ import annotations

import json
import os
from urllib.parse import urlencode, urlparse

import tornado.web
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from dangxiao.events import EVENTS_URL_ENV
from dangxiao.publishing.records_handlers import KernelRequestMixin

__all__ = ["SERVICE_URL_ENV", "_jupyter_server_extension_points", "_load_jupyter_server_extension"]

SERVICE_URL_ENV = "DANGXIAO_RECORDS_SERVICE_URL"
SERVICE_TIMEOUT = 20.0


def _jupyter_server_extension_points():
    return [{"module": "dangxiao.publishing.hub_extension"}]


class ServiceUnavailable(Exception):
    pass


class ForwardingMixin:
    """Calls to the records service with this server's hub token."""

    @property
    def service_url(self) -> str:
        return self.settings["dangxiao_service_url"]

    async def service(self, method: str, path: str, body: bytes | None = None, query: dict | None = None) -> dict:
        url = self.service_url + path + (f"?{urlencode(query)}" if query else "")
        request = HTTPRequest(url, method=method, body=body, request_timeout=SERVICE_TIMEOUT,
                              headers={"Authorization": f"token {os.environ.get('JUPYTERHUB_API_TOKEN', '')}",
                                       "Content-Type": "application/json"})
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as error:
            if error.response is None or error.code == 599:  # timeout, connection refused
                self.log.warning("records service unreachable (%s %s): %s", method, path, error)
                raise tornado.web.HTTPError(503, "records service unavailable") from None
            try:
                reason = json.loads(error.response.body).get("message", "")
            except (ValueError, AttributeError):
                reason = ""
            if error.code >= 500 or error.code in (401, 403):
                self.log.warning("records service answered %s to %s %s: %s", error.code, method, path, reason)
            raise tornado.web.HTTPError(error.code, reason or error.message) from None
        except OSError as error:
            self.log.warning("records service unreachable (%s %s): %s", method, path, error)
            raise tornado.web.HTTPError(503, "records service unavailable") from None
        return json.loads(response.body or b"{}")

    def owner_only(self) -> None:
        """Only the server's owner records here (someone else allowed into the server records nothing)."""
        owner = os.environ.get("JUPYTERHUB_USER")
        if owner and self.current_user.username != owner:
            raise tornado.web.HTTPError(403, "only the owner of this server records here")


class MeHandler(ForwardingMixin, APIHandler):
    @tornado.web.authenticated
    async def get(self):
        self.set_header("Cache-Control", "no-store")
        hub = self.settings["dangxiao_hub_prefix"]
        public = urlparse(self.service_url).path  # the proxy serves the service at the same path
        user = self.current_user
        try:
            account = await self.service("GET", "api/me")
        except tornado.web.HTTPError as error:
            if error.status_code != 503:
                raise
            # The service is out of reach for now: the page still knows who it is and queues its events.
            account = {"id": user.username, "name": user.name or user.username, "role": "trainee"}
        links = {"gallery": url_path_join(hub, "hub/home"), "me": url_path_join(public, "me"),
                 "logout": url_path_join(hub, "hub/logout")}
        if account["role"] != "trainee":
            links["class"] = url_path_join(public, "class")
        self.finish({"recording": True, "user": {k: account[k] for k in ("id", "name", "role")}, "links": links})


class PageEventsHandler(ForwardingMixin, APIHandler):
    @tornado.web.authenticated
    async def post(self):
        self.owner_only()
        self.finish(await self.service("POST", "api/events", self.request.body or b""))


class KernelEventsHandler(ForwardingMixin, KernelRequestMixin, APIHandler):
    @allow_unauthenticated
    async def post(self):
        _kernel_id, batch = self.kernel_batch()
        if not batch.page:  # a kernel not started by Voila for a lesson page (JupyterLab): nothing to record
            self.refuse(404, "the batch names no lesson page")
        self.finish(await self.service("POST", "api/kernel-events", self.request.body))


class KernelIdentityHandler(ForwardingMixin, KernelRequestMixin, APIHandler):
    @allow_unauthenticated
    async def get(self):
        kernel_id = self.identity_request()
        page = self.get_argument("page", "")
        if not page:
            self.refuse(404, "the kernel names no lesson page")
        # The kernel was started for this page: the trainee opened the lesson (one event per kernel).
        await self.service("POST", "api/lesson-open", json.dumps({"lesson": page, "id": f"open-{kernel_id}"}).encode())
        self.finish(await self.service("GET", "api/lesson-state", query={"lesson": page}))


def _load_jupyter_server_extension(serverapp) -> None:
    service_url = os.environ.get(SERVICE_URL_ENV, "")
    if not service_url:
        serverapp.log.info("dangxiao: $%s not set, lessons record nothing", SERVICE_URL_ENV)
        return
    service_url = service_url if service_url.endswith("/") else service_url + "/"
    base = serverapp.base_url
    serverapp.web_app.settings.update({
        "dangxiao_service_url": service_url,
        "dangxiao_hub_prefix": os.environ.get("JUPYTERHUB_BASE_URL", "/"),
    })
    serverapp.web_app.add_handlers(".*$", [
        (url_path_join(base, "dangxiao/api/me"), MeHandler),
        (url_path_join(base, "dangxiao/api/events"), PageEventsHandler),
        (url_path_join(base, "dangxiao/api/kernel-events"), KernelEventsHandler),
        (url_path_join(base, "dangxiao/api/kernel-identity"), KernelIdentityHandler),
    ])
    # Lesson kernels inherit it: they talk to this server on loopback, signed, never to the service.
    os.environ[EVENTS_URL_ENV] = f"http://127.0.0.1:{serverapp.port}{url_path_join(base, 'dangxiao/api/')}"
    serverapp.log.info("dangxiao: learning record through %s", service_url)
