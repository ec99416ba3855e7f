"""A real Chromium for browser tests, driven by Playwright's Python package.

Chromium comes from the system (Debian's ``chromium``, or ``PORTAL_CHROMIUM``);
``playwright install`` is never needed. One Playwright runs per test process: the
``portal_browser`` fixture (session scope) starts it, and every browser test of the
core or of a plugin shares it (a second ``sync_playwright()`` in the same process
fails).
"""

from __future__ import annotations

import os
import shutil

#: Flags for a closed network and a container: no sandbox, GPU or background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    """The Chromium to drive: ``PORTAL_CHROMIUM``, else ``chromium`` on the PATH."""
    return os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
