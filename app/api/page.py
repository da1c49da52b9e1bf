"""/ : the built-in timeline page (static HTML, CSS and JS shipped in app/static)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["page"])


@router.get("/", include_in_schema=False)
def timeline_page() -> FileResponse:
    """The timeline page: browse and filter the events in a browser. Its security policy
    and `Cache-Control: no-cache` are set by path (`app.security`, `app.caching`), so that
    a 304 carries them as the 200 does."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")
