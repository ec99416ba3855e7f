"""Compiled message catalogs: ``.po`` files are under git, ``.mo`` files are built.

:func:`ensure_compiled` compiles every catalog whose ``.mo`` is missing or older
than its ``.po``. The application factory calls it, so a fresh clone installed
with the README's command serves every shipped language without a build step;
``portal translations compile`` does the same by hand. A catalog folder that is
not writable (a read-only install) is compiled into the instance folder instead.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def compile_catalog(po: Path, mo: Path) -> None:
    """Compile one catalog; the file appears atomically (several workers may race)."""
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(tmp, mo)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_compiled(source: Path, fallback: Path) -> Path:
    """Compile stale catalogs under ``source``; returns the folder holding the
    ``.mo`` files (``source``, or ``fallback`` when ``source`` is read-only)."""
    target = source if os.access(source, os.W_OK) else fallback
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if _stale(po, mo):
            compile_catalog(po, mo)
            log.info("compiled %s", mo)
    return target
