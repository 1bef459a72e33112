"""``kanban serve``: the API, the live event stream and the web UI in one process, plus the
dispatcher and the notifier loops unless told not to run them."""

from __future__ import annotations

import errno
import gc
import logging
import signal
import socket
import sys
import threading
from typing import Any

import click

from ..services import configwatch
from .app import App, pass_app


def _start_loop(loop: Any, label: str) -> tuple[Any, threading.Thread]:
    """Run ``loop.run()`` (the dispatcher or the notifier) in a daemon thread."""
    thread = threading.Thread(target=loop.run, name=f"kanban-{label}", daemon=True)
    thread.start()
    return loop, thread


def watch_hup(loop: configwatch.WatchLoop) -> None:
    """SIGHUP reloads config.yaml now (where the platform has it)."""
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda _signum, _frame: loop.poke())


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it a response written in two parts (headers,
    # then body) waits ~40 ms for the client's delayed ACK on every keep-alive request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            other = f"--port {port + 1}" if port < 65535 else "--port 0 (any free port)"
            raise click.ClickException(f"address already in use: {host}:{port}: stop what "
                                       f"listens there or try {other}") from None
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror}; "
                                   "choose another --host or --port") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def quiet_server(config: Any) -> Any:
    """A uvicorn server that stops on SIGINT/SIGTERM and returns, so that `serve` can say what it
    stopped and exit 0 (uvicorn's own re-raises the signal once it has shut down)."""
    import contextlib
    import signal

    import uvicorn

    class Server(uvicorn.Server):
        stopped_by: str | None = None

        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            sigs = (signal.SIGINT, signal.SIGTERM)
            before = {sig: signal.signal(sig, self.handle_exit) for sig in sigs}
            try:
                yield
            finally:
                for sig, handler in before.items():
                    signal.signal(sig, handler)

        def catch_signals(self) -> None:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, self.handle_exit)

        def handle_exit(self, sig: int, frame: Any) -> None:
            self.stopped_by = "Ctrl-C" if sig == signal.SIGINT else signal.Signals(sig).name
            super().handle_exit(sig, frame)

    return Server(config)


def stop_report(loops: list[str], stopped_by: str | None, workers: int | None) -> str:
    """What `kanban serve` says when it stops: what stopped, and that workers keep running."""
    stopped = ["the web server", *(f"the {name}" for name in loops)]
    what = stopped[0] if len(stopped) == 1 else ", ".join(stopped[:-1]) + " and " + stopped[-1]
    why = f" ({stopped_by})" if stopped_by else ""
    if workers is None:
        left = "running workers keep running"
    elif workers == 0:
        left = "no worker was running"
    else:
        left = (f"{workers_keep_running(workers)}; the next `kanban serve` or `kanban daemon` "
                f"picks up what {'it reports' if workers == 1 else 'they report'}")
    return f"kanban serve: stopped {what}{why}; {left}"


def workers_keep_running(n: int) -> str:
    return "1 running worker keeps running" if n == 1 else f"{n} running workers keep running"


def bound_address(sock: socket.socket) -> str:
    """What the socket is really bound to (``0.0.0.0:8765`` means every interface)."""
    addr, port = sock.getsockname()[:2]
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def raise_open_file_limit() -> None:
    """Lift the soft open-file limit to the hard one (capped): the default 1,024 lets a flood of
    idle connections starve the server and the workers the dispatcher spawns."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass


def url_host(host: str) -> str:
    h = host.strip("[]")
    if h in ("0.0.0.0", "::"):
        return "127.0.0.1" if h == "0.0.0.0" else "[::1]"
    return f"[{h}]" if ":" in h else h


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: serve.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port (default: serve.port, 8765; 0 picks a free one and prints it).")
@click.option("--no-dispatch", is_flag=True, help="Do not run the dispatcher loop in this process.")
@click.option("--no-notify", is_flag=True, help="Do not run the notifier loop in this process.")
@pass_app
def serve(app: App, host: str | None, port: int | None, no_dispatch: bool, no_notify: bool) -> None:
    """Serve the REST API, the live event WebSocket and the web UI."""
    import uvicorn

    from ..web.app import create_app
    from ..web.auth import is_loopback, load_token, weak_token
    from ..web.protocol import with_header_timeout

    # Plain lines on stderr, as `kanban daemon` writes them. Set before the app is built: the MCP
    # SDK otherwise installs a rich handler on the root logger, whose rendering of one warning
    # costs milliseconds (the dispatcher warns once per ready task with an unknown assignee).
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    settings = app.settings
    host = host or settings.serve.host
    port = settings.serve.port if port is None else port
    source = load_token(settings)
    if not is_loopback(host) and source.origin != "env or config":
        raise click.ClickException(
            f"refusing to listen on {host} (reachable from other machines) with a token this "
            "server made up itself; choose one: set KANBAN_TOKEN or `token:` in config.yaml, "
            "and list the names clients use in serve.allowed_hosts")
    weak = None if is_loopback(host) else weak_token(source.token)
    if weak:
        raise click.ClickException(
            f"refusing to listen on {host} (reachable from other machines) with a weak token: "
            f"{weak}. Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    raise_open_file_limit()
    ctx = app.ctx
    watch = configwatch.ConfigWatch(ctx)
    dispatcher = None
    if settings.serve.dispatch and not no_dispatch:
        from ..dispatch.dispatcher import Dispatcher

        dispatcher = Dispatcher(ctx, config=watch)
    web = create_app(settings, ctx=ctx, token=source, bound_host=host, dispatcher=dispatcher)
    web.state.config_watch = watch  # its state is on /healthz
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    if dispatcher is not None:
        dispatcher.serve_url = f"http://{url_host(host)}:{actual}"
    config = uvicorn.Config(web, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5, timeout_keep_alive=5,
                            http=with_header_timeout(settings.serve.header_timeout_seconds))
    server = quiet_server(config)
    server.catch_signals()  # from now on Ctrl-C stops the server as it would once it serves
    loops = [_start_loop(configwatch.WatchLoop(watch), "config")]
    watch_hup(loops[0][0])
    if dispatcher is not None:
        loops.append(_start_loop(dispatcher, "dispatcher"))
    if settings.serve.notify and not no_notify:
        from ..notify.notifier import Notifier

        loops.append(_start_loop(Notifier(ctx), "notifier"))
    # /healthz answers 503 when a loop this server started has died or stopped passing.
    web.state.loops = {t.name.removeprefix("kanban-"): t.is_alive for _, t in loops[1:]}
    click.echo(f"kanban serve: listening on {bound_address(sock)}"
               + ("" if is_loopback(host) else " (reachable from other machines)"))
    # The one place the token is shown: a link that logs the browser in (as Jupyter does).
    click.echo(f"kanban serve: open http://{url_host(host)}:{actual}/?token={source.token}", err=False)
    # Everything built so far (the app, SQLAlchemy, pydantic and the MCP SDK: hundreds of
    # thousands of objects) lives as long as the process. Frozen, it is left out of the garbage
    # collector's full passes, which otherwise stop every request for 70-120 ms now and then.
    gc.collect()
    gc.freeze()
    try:
        server.run(sockets=[sock])
    finally:
        for loop, _ in loops:
            loop.stop()
        for _, thread in loops:
            thread.join(timeout=10)
        sock.close()
    from ..services import health

    try:
        workers: int | None = health.open_attempts(ctx)
    except Exception:  # the database went away: still say what stopped
        workers = None
    names = [t.name.removeprefix("kanban-") for _, t in loops[1:]]  # not the config watch
    click.echo(stop_report(names, server.stopped_by, workers))
