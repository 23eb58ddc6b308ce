"""Fail within seconds, in one line, when the download server cannot be reached at all.

pooch would try each of the 216 files ``attempts`` times and wait out every timeout (minutes)
before an offline machine learns why; one TCP connection before the first file says it at once.
"""

from __future__ import annotations

import socket
import urllib.parse
import urllib.request

from midnet.sample_data.published import ENV_DATA_URL


class OfflineError(ConnectionError):
    """The download server (or the proxy) cannot be reached at all: no use trying 216 files."""


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """Raise `OfflineError` within ``timeout`` seconds when ``url``'s host (or its proxy) is unreachable.

    The proxy comes from the same environment variables that requests (under pooch) honours.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return  # not ours to judge: the downloader names an unsupported scheme itself
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise OfflineError(
            f"cannot reach {host}:{port} ({reason}); check the network connection or proxy, or use "
            f"a local copy (MIDNET_DATA=...) or a mirror (--url / {ENV_DATA_URL})"
        ) from None
