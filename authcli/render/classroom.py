"""Class mode on paper and on the projector: a histogram as text lines, and the class report as
Markdown, HTML (no script, no fetch) or CSV. Names came from students' devices: each is made
printable (render/escape) and, in HTML, escaped; in Markdown, table bars are escaped too."""

from __future__ import annotations

import csv
import io
from html import escape

from authcli.classroom.report import Report
from authcli.render.escape import printable
from authcli.sources import SOURCES

BAR = 30


def histogram_lines(histogram: dict[str, int], answer: str = "") -> list[str]:
    """`  401  ██████████  12  right` for each choice, bars scaled to the biggest."""
    most = max([1, *histogram.values()])
    width = max([3, *(len(c) for c in histogram)])
    lines = []
    for choice, n in histogram.items():
        bar = "█" * round(BAR * n / most) if n else "·"
        mark = "  <- right" if choice == answer else ""
        lines.append(f"  {choice:>{width}}  {bar} {n}{mark}")
    return lines


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _cell(text: str) -> str:
    return printable(text).replace("|", "\\|")


_MARKUP = {ord(c): "\\" + c for c in "\\`*_{}[]()<>#+-.!|&~:=\"'$%^@/;?,"}


def _name(text: str) -> str:
    """A student's name as Markdown text: every ASCII punctuation mark backslash-escaped
    (CommonMark allows it before any), so `<img onerror=...>`, `[x](http://...)`, `**` or an
    entity is shown as typed, never becomes a tag, a link or emphasis."""
    return printable(text).translate(_MARKUP)


def markdown(report: Report) -> str:
    out = ["# What the class learned", "",
           f"Class gain (Hake's normalized gain, (post - pre) / (100 - pre), from class averages): "
           f"**{_g(report.class_gain)}** (pre {_pct(report.class_pre)}%, post {_pct(report.class_post)}%, "
           f"{sum(s.pre is not None and s.post is not None for s in report.students)} students took both).", "",
           "| student | pre % | post % | gain |", "|---|---|---|---|"]
    out += [f"| {_name(s.name)} | {_pct(s.pre)} | {_pct(s.post)} | {_g(s.gain)} |" for s in report.students]
    if report.missed:
        out += ["", f"## Most missed ({report.check} check)", "", "| item | wrong | source |", "|---|---|---|"]
        out += [f"| {_cell(m.prompt)} | {m.wrong}/{m.answered} | {SOURCES[m.source].short} |" for m in report.missed]
    if report.beliefs:
        out += ["", "## Misconceptions the wrong answers point at", ""]
        out += [f"- {_cell(b.misconception)}: {b.students} student{'s' if b.students != 1 else ''} ({b.item})"
                for b in report.beliefs]
    if report.predictions:
        out += ["", "## Predictions on live traffic", "", "| question | right | answers |", "|---|---|---|"]
        out += [f"| {_cell(p.prompt)} | {p.right}/{p.answered} | "
                f"{', '.join(f'{c}: {n}' for c, n in p.histogram.items())} |" for p in report.predictions]
    return "\n".join(out) + "\n"


def html(report: Report) -> str:
    """The Markdown's content as a page: tables and lists, every text escaped."""
    def row(cells: list[str], tag: str = "td") -> str:
        return "<tr>" + "".join(f"<{tag}>{escape(printable(c))}</{tag}>" for c in cells) + "</tr>"

    parts = ["<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
             "<title>What the class learned</title><style>table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:2px 8px}</style></head><body>",
             "<h1>What the class learned</h1>",
             f"<p>Class gain (post - pre) / (100 - pre): <strong>{_g(report.class_gain)}</strong> "
             f"(pre {_pct(report.class_pre)}%, post {_pct(report.class_post)}%)</p><table>",
             row(["student", "pre %", "post %", "gain"], "th")]
    parts += [row([s.name, _pct(s.pre), _pct(s.post), _g(s.gain)]) for s in report.students]
    parts.append("</table>")
    if report.missed:
        parts += [f"<h2>Most missed ({report.check} check)</h2><table>", row(["item", "wrong", "source"], "th")]
        parts += [row([m.prompt, f"{m.wrong}/{m.answered}", SOURCES[m.source].short]) for m in report.missed]
        parts.append("</table>")
    if report.beliefs:
        parts.append("<h2>Misconceptions the wrong answers point at</h2><ul>")
        parts += [f"<li>{escape(printable(b.misconception))}: {b.students} ({escape(b.item)})</li>"
                  for b in report.beliefs]
        parts.append("</ul>")
    if report.predictions:
        parts += ["<h2>Predictions on live traffic</h2><table>", row(["question", "right", "answers"], "th")]
        parts += [row([p.prompt, f"{p.right}/{p.answered}", ", ".join(f"{c}: {n}" for c, n in p.histogram.items())])
                  for p in report.predictions]
        parts.append("</table>")
    return "\n".join(parts) + "\n</body></html>\n"


def csv_text(report: Report) -> str:
    """One row per student; a name that starts like a formula (or with the quote) is quoted so no
    spreadsheet runs it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "pre", "post", "gain"])
    for s in report.students:
        name = printable(s.name)
        # OWASP CSV Injection's list, and the quote itself: a name that starts with ' gets one more,
        # so one leading ' is always the report's and taking it off gives the name back.
        if name[:1] in ("=", "+", "-", "@", "\t", "\r", "'"):
            name = "'" + name
        writer.writerow([name, _pct(s.pre), _pct(s.post), _g(s.gain)])
    writer.writerow(["(class)", _pct(report.class_pre), _pct(report.class_post), _g(report.class_gain)])
    return out.getvalue()
