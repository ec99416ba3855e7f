"""The search pages: live results under the header box, and the full results page.

Both are open to everyone: a visitor who is not signed in finds public pages
only, a partner what their organization, programs and tier reach, staff the
vendor's content and the records of the partners they manage. Both work without
JavaScript (the header box is a plain GET form to ``/search``); htmx swaps in
the live results and, on the results page, the filtered list.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request
from flask_login import current_user

from portal.search import search_for
from portal.search.documents import kinds as kind_labels
from portal.search.query import MAX_QUERY_CHARS
from portal.templating import url_with

bp = Blueprint("search", __name__)

PER_PAGE = 10
LIVE_HITS = 6
#: Deepest page offered (results beyond are better reached with more words).
MAX_PAGE = 50


def _filters() -> dict[str, Any]:
    args = request.args
    page = args.get("page", "1")
    languages = set(current_app.config["LANGUAGES"])
    language = args.get("lang") or None
    return {
        "q": (args.get("q") or "")[:MAX_QUERY_CHARS],
        "kind": tuple(k for k in args.getlist("kind") if k)[:10],
        "tag": tuple(t.strip().lower()[:40] for t in args.getlist("tag") if t.strip())[:5],
        "lang": language if language in languages else None,
        "page": min(MAX_PAGE, max(1, int(page))) if page.isascii() and page.isdigit() else 1,
    }


@bp.get("/search")
def results():  # type: ignore[no-untyped-def]
    filters = _filters()
    found = search_for(current_user, filters["q"], kinds=filters["kind"], tags=filters["tag"],
                       language=filters["lang"], page=filters["page"], per_page=PER_PAGE)
    found.page_limit = MAX_PAGE
    if found.total and filters["page"] > found.pages:
        # Past the last page (results changed, or a hand-made address): the last one.
        return redirect(url_with(page=found.pages))
    partial = bool(request.headers.get("HX-Request")) and \
        request.headers.get("HX-Target") == "search-results"
    context = {"filters": filters, "found": found, "labels": kind_labels(),
               "languages": current_app.config["LANGUAGES"]}
    if partial:
        response = current_app.make_response(render_template("search/_results.html", **context))
    else:
        response = current_app.make_response(render_template("search/results.html", **context))
    response.headers["Vary"] = "HX-Request, HX-Target, Cookie"
    return response


@bp.get("/search/live")
def live():  # type: ignore[no-untyped-def]
    """The header's as-you-type results (an htmx partial; a plain link otherwise)."""
    q = (request.args.get("q") or "")[:MAX_QUERY_CHARS]
    found = search_for(current_user, q, as_you_type=True, per_page=LIVE_HITS, facets=False)
    response = current_app.make_response(
        render_template("search/_live.html", q=q, found=found, labels=kind_labels()))
    response.headers["Vary"] = "Cookie"
    return response
