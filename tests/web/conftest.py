"""The API through the real app: Starlette's TestClient in process, or uvicorn on a free port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agentkanban.config import Settings
from agentkanban.services import Actor, Ctx
from agentkanban.services import boards as board_svc
from agentkanban.services import tasks as task_svc
from agentkanban.web.app import create_app

BASE = "http://127.0.0.1"


class Api:
    """A client bound to one mount point, sending the token on every request."""

    def __init__(self, client: TestClient, prefix: str = "/api") -> None:
        self.client = client
        self.prefix = prefix

    def __getattr__(self, method: str) -> Any:
        if method not in {"get", "post", "patch", "delete", "put"}:
            raise AttributeError(method)

        def call(path: str, **kw: Any) -> httpx.Response:
            if method == "delete" and "json" in kw:
                return self.client.request("DELETE", self.prefix + path, **kw)
            return getattr(self.client, method)(self.prefix + path, **kw)

        return call


@pytest.fixture
def app(settings: Settings, ctx: Ctx) -> FastAPI:
    return create_app(settings, ctx=ctx)


@pytest.fixture
def token(app: FastAPI) -> str:
    return str(app.state.token)


@pytest.fixture
def client(app: FastAPI, token: str) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE) as c:
        c.headers["authorization"] = f"Bearer {token}"
        yield c


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE) as c:
        yield c


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client, "/api")


@pytest.fixture(params=["/api", "/api/plugins/kanban"])
def mounted(request: pytest.FixtureRequest, client: TestClient) -> Api:
    """The same client at each mount point."""
    return Api(client, request.param)


@pytest.fixture
def user() -> Actor:
    return Actor("user")


def make_task(ctx: Ctx, title: str = "a task", board: str = "default", **kw: Any) -> str:
    return task_svc.create(ctx, board, title=title, actor=Actor("user"), **kw).task.id


def make_board(ctx: Ctx, slug: str) -> str:
    return board_svc.create(ctx, slug).slug


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn in a thread on a free port of 127.0.0.1."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
