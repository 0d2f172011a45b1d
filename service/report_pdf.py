"""The day's incident report as a PDF, drawn with matplotlib's PDF backend.

matplotlib is already a dependency and writes PDF with no system library and nothing fetched
at run time; HTML-to-PDF converters (weasyprint) need Debian's pango. The layout is plain:
A4 portrait, black and white, a timeline page (one bar per site; black critical, hatched
warning, outlined info) then the incident table as monospaced lines.
"""

from __future__ import annotations

import io

from service.incident_report import SEVERITY_ORDER

A4_IN = (8.27, 11.69)
LINES_PER_PAGE = 64
SITES_PER_PAGE = 28


def _table_lines(report: dict) -> list[str]:
    lines = []
    for i in report["incidents"]:
        head = (f'{(i["site"] or "")[:14]:14} {i["local_start"]}-{i["local_end"]} {i["severity"].upper():8} '
                f'{i["freq_low_hz"] / 1e6:9.3f}-{i["freq_high_hz"] / 1e6:9.3f} MHz  {",".join(i["kinds"])[:28]}')
        lines.append(head)
        desk = i["desk"]
        more = f'    bursts {i["bursts"]}, duty {i["duty"]:.0%}; outcome {desk["outcome"] or "unresolved"}'
        if desk["assigned_to"]:
            more += f'; team {desk["assigned_to"]}'
        if i["wide_area"]:
            more += f'; wide-area {" ".join(i["wide_area"]["sites"])}'
        lines.append(more[:110])
        lines += [f"    note {n}"[:110] for n in i["notes"]]
        lines += [f"    evidence sha256 {h}" for h in i["evidence"]]
    return lines or ["No incidents on this day."]


def render_pdf(report: dict) -> bytes:
    """The report as PDF bytes."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    buf = io.BytesIO()
    lo, hi = report["window_us"]
    tot = report["totals"]
    by_site: dict[str, list[dict]] = {}
    for i in report["incidents"]:
        by_site.setdefault(i["site"] or "", []).append(i)
    sites = list(by_site) or [""]
    with PdfPages(buf) as pdf:
        for page_start in range(0, len(sites), SITES_PER_PAGE):
            fig = Figure(figsize=A4_IN)
            title = f'Jamming incidents - {report["day"]}' + (f' - site {report["site"]}' if report["site"] else "")
            fig.text(0.07, 0.96, title, fontsize=14, weight="bold")
            fig.text(0.07, 0.935, f'Local times, {report["tz"]} ({report["tz_abbrev"]}).  {tot["incidents"]} incidents, '
                                  f'{tot["sites_affected"]} sites affected, {tot["jammed_minutes"]} jammed minutes; '
                                  + ", ".join(f'{s} {tot["by_severity"][s]}' for s in SEVERITY_ORDER), fontsize=8)
            chunk = sites[page_start:page_start + SITES_PER_PAGE]
            ax = fig.add_axes((0.2, 0.08, 0.74, 0.82))
            for row, site in enumerate(chunk):
                for i in by_site.get(site, []):
                    a = (i["start_us"] - lo) / 3.6e9
                    b = (max(i["end_us"], i["start_us"]) - lo) / 3.6e9
                    style = {"critical": dict(color="black"), "warning": dict(facecolor="white", hatch="////")}.get(
                        i["severity"], dict(facecolor="white"))
                    ax.broken_barh([(max(0, a), max(0.02, min(24, b) - max(0, a)))], (row - 0.35, 0.7),
                                   edgecolor="black", linewidth=0.6, **style)
            ax.set_xlim(0, 24)
            ax.set_ylim(len(chunk) - 0.5, -0.5)
            ax.set_yticks(range(len(chunk)), [f'{s} ({tot["jammed_minutes_by_site"].get(s, 0)} min)' for s in chunk],
                          fontsize=7)
            ax.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)], fontsize=7)
            ax.grid(axis="x", color="0.6", linewidth=0.4)
            ax.set_xlabel(f'local time ({report["tz_abbrev"]}); black critical, hatched warning, outlined info', fontsize=7)
            pdf.savefig(fig)
        lines = _table_lines(report)
        for page_start in range(0, len(lines), LINES_PER_PAGE):
            fig = Figure(figsize=A4_IN)
            fig.text(0.05, 0.965, f'Incidents - {report["day"]} ({report["tz_abbrev"]})', fontsize=11, weight="bold")
            fig.text(0.05, 0.945, "\n".join(lines[page_start:page_start + LINES_PER_PAGE]), family="monospace",
                     fontsize=6.5, va="top", linespacing=1.35)
            pdf.savefig(fig)
    return buf.getvalue()
