"""One TLS context for every HTTP client this process makes (the runner's per thread, the remote
CLI's, the MCP relay's). httpx builds a new one for each client by default, loading the CA
bundle each time: ~27 ms of CPU, which a runner paid for every attempt it started."""

from __future__ import annotations

import functools
import ssl


@functools.cache
def tls_context() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()
