"""The hook reference of ``docs/plugins.md``, generated from :mod:`portal.hookspecs`.

``portal plugins docs`` rewrites the part of ``docs/plugins.md`` between the
``<!-- hook-reference:start -->`` and ``<!-- hook-reference:end -->`` markers;
``tests/test_plugin_docs.py`` fails when that part is out of date.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from portal import hookspecs

START = "<!-- hook-reference:start -->"
END = "<!-- hook-reference:end -->"
DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def hook_names() -> list[str]:
    """Every hook, in the order the specification module declares them."""
    functions = [
        (obj.__code__.co_firstlineno, name)
        for name, obj in vars(hookspecs).items()
        if inspect.isfunction(obj) and name.startswith("portal_")
    ]
    return [name for _, name in sorted(functions)]


def hook_reference() -> str:
    """Markdown for every hook: signature and docstring."""
    lines = [START, "", "_Generated from `portal/hookspecs.py` by `portal plugins docs`._", ""]
    for name in hook_names():
        function = getattr(hookspecs, name)
        signature = str(inspect.signature(function)).replace("'", "")
        lines.append(f"### `{name}{signature}`")
        lines.append("")
        lines.append(inspect.cleandoc(function.__doc__ or "").strip())
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def update(path: Path = DOCS_PATH) -> bool:
    """Rewrite the reference part of ``path``; True when something changed."""
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{path} has no {START} … {END} markers")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    new = before + hook_reference() + after
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def is_current(path: Path = DOCS_PATH) -> bool:
    text = path.read_text(encoding="utf-8")
    return hook_reference() in text
