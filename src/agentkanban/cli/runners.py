"""``kanban runners ...``: runner tokens and the runners on the board's server (run on the server)."""

from __future__ import annotations

import click

from ..services import runners as svc
from .app import App, emit_json, pass_app
from .render import ago, table


@click.group("runners")
def runners() -> None:
    """Remote runners: make and revoke their tokens, see which are online (docs/runners.md)."""


@runners.group("token")
def token() -> None:
    """Runner tokens."""


@token.command("create")
@click.argument("name")
@click.option("--profile", "profiles", multiple=True, metavar="P",
              help="A profile the runner may run (repeatable; default: any it offers).")
@click.option("--label", "labels", multiple=True, metavar="L",
              help="A label the runner may announce (repeatable; default: any).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def create(app: App, name: str, profiles: tuple[str, ...], labels: tuple[str, ...], as_json: bool) -> None:
    """Make the token runner NAME connects with. It is shown once; only its hash is kept."""
    runner, secret = svc.create_token(app.ctx, name, profiles=list(profiles) or None,
                                      labels=list(labels) or None)
    if as_json:
        emit_json({"runner": runner, "token": secret})
        return
    # The token alone on stdout (`... > gpu-1.token`); the advice on stderr.
    click.echo(secret)
    click.echo(f"runner {runner['name']}: the token above is shown once; keep it in a file only the "
               f"runner can read and start it with: kanban runner --server URL --token-file FILE "
               f"--name {runner['name']}", err=True)


@runners.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_cmd(app: App, as_json: bool) -> None:
    """Every runner: state, labels, profiles, what it runs, last seen, version."""
    data = svc.list_runners(app.ctx)
    if as_json:
        emit_json({"runners": data})
        return
    table(None, ["name", "state", "labels", "profiles", "running", "last seen", "version", "host"],
          [[r["name"], "revoked" if r["revoked"] else "online" if r["online"] else "offline",
            ", ".join(r["labels"]) or "-", ", ".join(r["profiles"]) or "-",
            ", ".join(x["task_id"] for x in r["running"]) or "-", ago(r["last_seen_at"]),
            r["version"] or "-", r["host"] or "-"] for r in data])


@runners.command("revoke")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def revoke(app: App, name: str, as_json: bool) -> None:
    """Refuse runner NAME's token from now on; the attempts it holds are ended and retried."""
    out = svc.revoke(app.ctx, name, actor=app.actor)
    if as_json:
        emit_json(out)
        return
    ended = out["ended"]
    click.echo(f"runner {name} revoked" + (f"; ended its attempts on {', '.join(ended)}" if ended else ""))
