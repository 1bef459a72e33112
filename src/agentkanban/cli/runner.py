"""``kanban runner``: run the board's work on this machine, asking the server for it over HTTP.

No database: the command reads its own runner.yaml and talks to the server with a runner token.
"""

from __future__ import annotations

import logging
import os
import sys

import click


@click.command("runner")
@click.option("--server", metavar="URL", default=None,
              help="The board server's URL (default: $KANBAN_URL, then server: in runner.yaml).")
@click.option("--token", metavar="TOKEN", default=None,
              help="The runner token (default: $KANBAN_RUNNER_TOKEN); prefer --token-file, which "
                   "keeps it out of the process list.")
@click.option("--token-file", metavar="PATH", default=None, help="Read the runner token from this file.")
@click.option("--name", metavar="NAME", default=None,
              help="The runner name the token must belong to (a guard against a wrong token).")
@click.option("--label", "labels", metavar="LABEL", multiple=True,
              help="A label of this machine that tasks can require (repeatable; replaces labels: of the file).")
@click.option("--capacity", type=click.IntRange(1, 256), default=None,
              help="How many workers run at once (default: capacity: of the file, else 1).")
@click.option("--config", "config", metavar="PATH", default=None,
              help="The runner's config file (default: $KANBAN_HOME/runner.yaml).")
def runner(server: str | None, token: str | None, token_file: str | None, name: str | None,
           labels: tuple[str, ...], capacity: int | None, config: str | None) -> None:
    """Run workers for the board server on this machine (a remote runner, see docs/runners.md)."""
    from ..runner.loop import Runner
    from ..runner.settings import load

    cfg = load(os.environ, config=config, server=server, token=token, token_file=token_file,
               name=name, labels=labels, capacity=capacity)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("agentkanban.runner")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for noisy in ("httpx", "httpcore"):  # their request lines would repeat every long poll
        logging.getLogger(noisy).setLevel(logging.WARNING)
    loop = Runner(cfg)
    loop.install_signals()
    sys.exit(loop.run())
