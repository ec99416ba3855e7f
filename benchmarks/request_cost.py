"""What one request of each deal page costs the server, in-process: CPU time and
(with valgrind) instructions.

The load benchmark (``deals_load.py``) measures what users see, but on a shared
machine its rates move with whatever else runs. This one calls the portal's WSGI
app directly (no server, no network), after a few warm-up requests, and reports:

* CPU milliseconds per request (``time.process_time``): minimum and median of
  ``--requests`` calls;
* with ``--instructions``: instructions per request counted by
  ``valgrind --tool=callgrind`` around the measured calls only. The count is the
  same on a busy and on an idle machine, so two versions of the code compare exactly.

The instance is the load benchmark's small one (demo data, the deals plugin, 2,000
organizations, ``--registrations`` registrations, a partner with 200 of them and a
manager of 200 organizations), and the pages are the same.

    .venv/bin/python benchmarks/request_cost.py [--registrations 10000] [--requests 200]
        [--instructions]     # apt-get install valgrind
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import deals_load  # noqa: E402

PAGES = {
    **deals_load.PAGES,
    # Floors, to see where a page's cost goes: the portal's request handling alone,
    # then with the signed-in user, then with the layout around an empty page.
    "portal hello (no login, no template)": ("partner", "/_cost/hello"),
    "signed-in hello (no template)": ("partner", "/_cost/signed-in"),
    "signed-in empty layout": ("partner", "/_cost/layout"),
}


def environ(path: str, cookie: str) -> dict[str, Any]:
    route, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
        "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1", "HTTP_COOKIE": cookie,
        "HTTP_USER_AGENT": deals_load.USER_AGENT, "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


def served_app(instance: Path) -> Any:
    os.environ.update(deals_load.environment(instance, None))
    from flask import render_template
    from flask_login import current_user, login_required

    from portal import create_app

    app = create_app()

    @app.get("/_cost/hello")
    def _hello() -> str:  # the portal's floor: its request handling, nothing else
        return "hello"

    @app.get("/_cost/signed-in")
    @login_required
    def _signed_in() -> str:
        return f"hello {current_user.name}"

    empty: list[Any] = []

    @app.get("/_cost/layout")
    @login_required
    def _layout() -> str:
        if not empty:  # compiled once, as a template file is
            empty.append(app.jinja_env.from_string('{% extends "base.html" %}{% block title %}Empty{% endblock %}'))
        return render_template(empty[0])

    return app


def call(app: Any, path: str, cookie: str) -> tuple[str, int]:
    status: list[str] = []
    body = b"".join(app.wsgi_app(environ(path, cookie), lambda s, h, e=None: status.append(s)))
    return status[0], len(body)


def measure_cpu(app: Any, cookies: dict[str, str], requests: int) -> None:
    print(f"{'page':40} {'status':8} {'bytes':>7} {'CPU ms min':>11} {'median':>8}")
    for name, (who, path) in PAGES.items():
        for _ in range(5):
            status, size = call(app, path, cookies[who])
        times = []
        for _ in range(requests):
            started = time.process_time()
            call(app, path, cookies[who])
            times.append((time.process_time() - started) * 1000)
        print(f"{name:40} {status:8} {size:7d} {min(times):11.2f} {statistics.median(times):8.2f}")


def measure_instructions(instance: Path, name: str, requests: int) -> float:
    """Instructions per request of one page, in a child process under callgrind."""
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
               sys.executable, __file__, "--child", str(instance), name, str(requests)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    collected = [line for line in output.splitlines() if "Collected :" in line]
    return int(collected[-1].split(":")[-1]) / requests


def child(instance: Path, name: str, requests: int) -> None:
    """Run under callgrind: warm up, switch counting on, make the requests, switch off."""
    import pickle

    app = served_app(instance)
    cookies = pickle.loads((instance / "cookies.pickle").read_bytes())
    who, path = PAGES[name]
    for _ in range(5):
        call(app, path, cookies[who])
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True, check=False)
    for _ in range(requests):
        call(app, path, cookies[who])
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], capture_output=True, check=False)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions per request with valgrind (slow: ~30 s a page)")
    args = parser.parse_args()
    if args.instructions and not shutil.which("valgrind"):
        raise SystemExit("--instructions needs valgrind: apt-get install valgrind")
    import pickle

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        app = deals_load.build(instance, None)
        deals_load.add_registrations(app, args.registrations, seed=1)
        cookies = deals_load.session_cookies(app)
        (instance / "cookies.pickle").write_bytes(pickle.dumps(cookies))
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
        measured = served_app(instance)
        measure_cpu(measured, cookies, args.requests)
        with measured.app_context():
            from portal.extensions import db

            # As the load benchmark serves it: no other process holds the database
            # open (an open SQLite connection keeps the write-ahead log in use, and
            # every page read then looks there first).
            db.engine.dispose()
        if args.instructions:
            print(f"\n{'page':40} {'instructions per request':>26}")
            for name in PAGES:
                count = measure_instructions(instance, name, 10)
                print(f"{name:40} {count / 1e6:24.2f} M")


if __name__ == "__main__":
    main()
