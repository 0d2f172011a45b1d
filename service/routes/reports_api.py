"""``GET /reports/daily``: the day's incident report (HTML, CSV or PDF), as ``spectrum report`` writes it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from service.deps import AUTH_RESPONSES, Ctx, ViewerAuth, unprocessable
from service.incident_report import ReportError, build_report, parse_spec, render_csv, render_html

router = APIRouter(tags=["reports"], responses=AUTH_RESPONSES)
MEDIA = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


@router.get("/reports/daily", response_class=Response,
            responses={200: {"content": {m: {} for m in MEDIA.values()}, "description": "the report"}})
def daily_report(
    who: ViewerAuth,
    ctx: Ctx,
    day: Annotated[str, Query(description="local date, YYYY-MM-DD")],
    tz: Annotated[str, Query(max_length=64, description="IANA time zone, e.g. Asia/Jakarta (WIB)")] = "Asia/Jakarta",
    site: Annotated[str | None, Query(max_length=64, description="one site only")] = None,
    format: Annotated[Literal["html", "csv", "pdf"], Query(description="html (printable A4), csv or pdf")] = "html",
) -> Response:
    """Per site and for the whole day: incidents in local time, timelines, outcomes, evidence hashes, totals."""
    try:
        spec = parse_spec(day, tz, site)
    except ReportError as exc:
        raise unprocessable(("query", "day" if "--day" in str(exc) else "tz"), str(exc).replace("--", "", 1)) from exc
    report = build_report(ctx.db, spec)
    if format == "pdf":
        from service.report_pdf import render_pdf

        body: bytes | str = render_pdf(report)
    else:
        body = render_html(report) if format == "html" else render_csv(report)
    name = f"incidents-{spec.day.isoformat()}{'-' + site if site else ''}.{format}"
    return Response(body, media_type=MEDIA[format], headers={"Content-Disposition": f'inline; filename="{name}"'})
