"""fake EDGAR's own answers (../shared/fake_edgar Site) behind the client's transport seam: no sockets, no clock.

For tests that count requests exactly or check spacing with an injected clock; what can only be seen over real
HTTP (the server's own 1-second windows, several processes, resets) stays in the real-HTTP tests."""

from __future__ import annotations

import importlib.util
import re
import sys
import threading

import httpx

from tests.conftest import need_fake_edgar

_CONTACT = re.compile(r"\S+@\S+\.\S+")
_SITE = None
_SITE_LOCK = threading.Lock()


def _site():
    """One Site over the shared corpus per test session (it indexes the corpus once)."""
    global _SITE
    with _SITE_LOCK:
        if _SITE is None:
            path = need_fake_edgar()
            folder = str(path.parent)
            if folder not in sys.path:
                sys.path.insert(0, folder)
            spec = importlib.util.spec_from_file_location("fake_edgar_server", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _SITE = module.Site(module.parse_args([]))
        return _SITE


class InProcessEdgar:
    """`.transport(clock)` answers as fake EDGAR does (403 without a contact in the User-Agent) and records
    (clock time, path) of every request in `.requests`."""

    def __init__(self):
        self.site = _site()
        self.requests: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def transport(self, clock) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            path = request.url.path
            with self.lock:
                self.requests.append((clock(), path))
            if not _CONTACT.search(request.headers.get("user-agent", "")):
                return httpx.Response(403, stream=httpx.ByteStream(b"Undeclared Automated Tool"))
            status, ctype, body = self.site.get(path)
            return httpx.Response(status, headers={"Content-Type": ctype}, stream=httpx.ByteStream(body))

        return httpx.MockTransport(handle)

    def paths(self, prefix: str = "") -> list[str]:
        return [p for _, p in self.requests if p.startswith(prefix)]
