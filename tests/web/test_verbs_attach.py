"""``POST /verbs/attach``: the body streams to disk under ``attachments.max_bytes``, not through
the in-memory ``serve.max_body_bytes`` bound every other route keeps; refused uploads keep
nothing, spooled copy included. (Both modes of ``kanban attach`` are in
tests/cli/test_remote_verbs.py.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from fastapi.testclient import TestClient

from agentkanban.config import AttachmentSettings
from agentkanban.services import attachments as att_svc
from agentkanban.web.app import create_app

from .conftest import BASE, make_task
from .test_tasks_api import assert_error

BODY_LIMIT = 1024  # serve.max_body_bytes, its smallest
FILE_LIMIT = 5000  # attachments.max_bytes


def chunks(size: int, piece: int = 700) -> Iterator[bytes]:
    """``size`` bytes without a Content-Length (sent chunked)."""
    while size > 0:
        yield b"y" * min(piece, size)
        size -= piece


def files_in_store(ctx) -> list[str]:
    root = att_svc.store_dir(ctx)
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_an_upload_is_bounded_by_the_attachment_limit_alone(settings, ctx):
    small = dataclasses.replace(settings, attachments=AttachmentSettings(max_bytes=FILE_LIMIT),
                                serve=dataclasses.replace(settings.serve, max_body_bytes=BODY_LIMIT))
    ctx.settings = small
    app = create_app(small, ctx=ctx)
    tid = make_task(ctx)
    with TestClient(app, base_url=BASE) as c:
        c.headers["authorization"] = f"Bearer {app.state.token}"
        for prefix, size in (("/api", 3000), ("/api/plugins/kanban", FILE_LIMIT)):
            ok = c.post(f"{prefix}/verbs/attach", params={"task": tid, "filename": f"{size}.bin"},
                        content=chunks(size), headers={"content-type": "application/octet-stream"})
            assert ok.status_code == 200, ok.text
            assert ok.json()["attachment"]["size"] == size
        over = c.post("/api/verbs/attach", params={"task": tid, "filename": "over.bin"},
                      content=chunks(FILE_LIMIT + 1))
        assert_error(over, 400, "limit", "attachments.max_bytes")
        declared = c.post("/api/verbs/attach", params={"task": tid, "filename": "over.bin"},
                          content=b"z" * (FILE_LIMIT + 1))
        assert_error(declared, 400, "limit", "attachments.max_bytes")
        name = c.post("/api/verbs/attach", params={"task": tid, "filename": "../x"}, content=b"z")
        assert_error(name, 400, "plain name")
        # Every other route keeps the in-memory bound.
        json_body = b'{"title": "' + b"x" * BODY_LIMIT + b'"}'
        assert_error(c.post("/api/tasks", content=json_body,
                            headers={"content-type": "application/json"}), 413, "max_body_bytes")
    kept = att_svc.for_task(ctx, tid)
    assert [(a.filename, a.size) for a in kept] == [("3000.bin", 3000), (f"{FILE_LIMIT}.bin", FILE_LIMIT)]
    assert files_in_store(ctx) == sorted(a.stored_name for a in kept)
    _, path = att_svc.get(ctx, kept[0].id)
    assert path.read_bytes() == b"y" * 3000
