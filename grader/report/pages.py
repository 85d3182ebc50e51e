"""The report's HTML pages. Everything that comes from a submission (student ids, messages, notes, output,
code) goes through `esc`; the only script is SORT_JS, allowed by its hash in each page's Content-Security-Policy,
which also forbids loading anything (no network, no other file) but the page's own inline styles."""

from __future__ import annotations

import base64
import hashlib
import html
from urllib.parse import quote

from grader.report.analysis import CheckStats, Distribution
from grader.results import OUTCOMES, format_points

MAX_GROUPS = 3  # failure groups shown per check before "more"
MAX_OUTPUT = 20_000  # characters of a student's captured output shown

SORT_JS = """\
(function () {
  function key(row, column) {
    var cell = row.cells[column], value = cell.getAttribute("data-sort");
    return value === null ? cell.textContent.trim() : value;
  }
  document.querySelectorAll("table.sortable th button").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.parentNode, table = th.closest("table"), body = table.tBodies[0], column = th.cellIndex;
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, column), y = key(b, column), nx = Number(x), ny = Number(y);
        var order = (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SORT_JS.encode()).digest()).decode()
CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{_SCRIPT_HASH}'"

CSS = """\
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa; --blue: #4c72b0; --mark: #ffe08a; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 16px; border-bottom: 1px solid var(--line); }
header nav a { margin-right: 14px; }
h1 { font-size: 1.5em; margin: 0 0 6px; overflow-wrap: anywhere; }
h2 { font-size: 1.2em; margin: 28px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 1.05em; margin: 18px 0 6px; }
a { color: #0b5cad; }
.muted, .note { color: var(--muted); }
.note { background: var(--bg2); border-left: 4px solid var(--blue); padding: 8px 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.msg { overflow-wrap: anywhere; min-width: 18em; }
td.check { overflow-wrap: anywhere; min-width: 12em; max-width: 24em; }
td.counts { min-width: 7em; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th button::after { content: " \\2195"; color: var(--muted); }
th[aria-sort="ascending"] button::after { content: " \\2191"; }
th[aria-sort="descending"] button::after { content: " \\2193"; }
.bar { display: inline-block; width: 70px; height: 9px; background: #e6e9ed; margin-right: 6px; }
.bar span { display: block; height: 100%; background: var(--blue); }
.tag { font-size: 0.8em; padding: 0 5px; border-radius: 8px; background: #e6e9ed; white-space: nowrap; }
.passed { background: #d4f2dc; } .failed { background: #ffd9d6; } .error, .crashed { background: #ffc4a8; }
.timeout { background: #ffe6a8; } .skipped { background: #e6e9ed; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 8px 16px; }
figure { margin: 0; }
figure.wide { max-width: 760px; }
figure svg { width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.9em; }
pre { background: var(--bg2); padding: 8px; overflow: auto; font-size: 13px; line-height: 1.35; max-height: 70vh; }
.code-pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.code-pair > div { min-width: 0; }
.code-pair pre { max-height: none; white-space: pre-wrap; overflow-wrap: anywhere; }
@media (max-width: 900px) { .code-pair { grid-template-columns: 1fr; } }
mark { background: var(--mark); }
ul.groups { margin: 0; padding-left: 1.1em; }
footer { color: var(--muted); font-size: 0.85em; padding-top: 20px; padding-bottom: 30px; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def href(*parts: str) -> str:
    """A relative link to a file of the report, each part of its path URL-encoded and the whole escaped."""
    return esc("/".join(quote(part, safe="") for part in parts))


def page(title: str, body: str, *, nav: str = "", script: bool = False) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{esc(title)}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1><nav>{nav}</nav></header>\n<main>\n{body}\n</main>\n"
        "<footer>Written by <code>grader report</code>; a static page: it loads nothing from anywhere.</footer>\n"
        + (f"<script>{SORT_JS}</script>\n" if script else "")
        + "</body>\n</html>\n"
    )


def breakable(name: str) -> str:
    """An escaped identifier that may wrap after its underscores."""
    return esc(name).replace("_", "_<wbr>")


def points(value: float) -> str:
    return esc(format_points(value))


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def outcome_tag(outcome: str) -> str:
    css = outcome if outcome in OUTCOMES else ""
    return f'<span class="tag {css}">{esc(outcome)}</span>'


def sort_header(label: str, *, num: bool = False) -> str:
    return f'<th scope="col"{" class=num" if num else ""}><button type="button">{esc(label)}</button></th>'


def figure(svg: str, caption: str, *, wide: bool = False) -> str:
    """A plot (an <svg> element made by grader.report.plots, not from submissions) and its caption."""
    return f"<figure{' class=wide' if wide else ''}>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def distribution_line(dist: Distribution) -> str:
    return (f"{len(dist.scores)} students, mean {dist.mean:.1f} (dashed line), median {format_points(dist.median)}, "
            f"full marks {dist.full_marks} ({percent(dist.full_marks, len(dist.scores))}), "
            f"of {format_points(dist.top)}")


def item_row(item: CheckStats) -> str:
    rate = item.pass_rate
    if rate is None:
        passed = f'<td class="num" data-sort="2">{outcome_tag("skipped")}</td>'
    else:
        passed = (f'<td class="num" data-sort="{rate:.4f}"><span class="bar"><span style="width:{100 * rate:.0f}%">'
                  f'</span></span>{100 * rate:.0f}% <span class="muted">({item.outcomes["passed"]}/{item.graded})'
                  f'</span></td>')
    counts = "<br>".join(f"{outcome_tag(o)} {item.outcomes[o]}" for o in OUTCOMES
                         if o != "passed" and item.outcomes[o]) or "-"
    why = [f"<li><b>{g.count}</b> &times; {esc(g.example)}"
           + (f' <span class="muted">({len(g.messages)} variants)</span>' if len(g.messages) > 1 else "") + "</li>"
           for g in item.groups]
    reasons = f'<ul class="groups">{"".join(why[:MAX_GROUPS])}</ul>' if why else ""
    if len(why) > MAX_GROUPS:
        reasons += f"<details><summary>{len(why) - MAX_GROUPS} more</summary><ul class=\"groups\">" \
                   f"{''.join(why[MAX_GROUPS:])}</ul></details>"
    if item.skip_reasons:
        reason = item.skip_reasons.most_common(1)[0][0]
        reasons += f'<div class="muted">skipped for {item.outcomes["skipped"]}: {esc(reason)}</div>'
    hidden = ' <span class="tag">hidden</span>' if item.hidden else ""
    return (f'<tr><td class="check"><span class="muted">{esc(item.exercise)}</span><br>'
            f'{breakable(item.name)}{hidden}</td>'
            f'<td class="num">{points(item.max_points)}</td>{passed}'
            f'<td class="counts" data-sort="{item.not_passed}">{counts}</td>'
            f'<td class="msg">{reasons}</td></tr>')


def item_table(items: list[CheckStats]) -> str:
    head = "".join([sort_header("check"), sort_header("points", num=True), sort_header("passed", num=True),
                    sort_header("not passed"),
                    '<th scope="col">why not (messages grouped, the largest group first)</th>'])
    rows = "\n".join(item_row(item) for item in items)
    return f'<div class="scroll"><table class="sortable" id="items"><thead><tr>{head}</tr></thead>' \
           f'<tbody>\n{rows}\n</tbody></table></div>'


def output_block(text: str) -> str:
    if not text:
        return ""
    shown = text[:MAX_OUTPUT]
    more = f"\n[... {len(text) - MAX_OUTPUT} more characters not shown]" if len(text) > MAX_OUTPUT else ""
    return f"<details><summary>what the grading processes printed ({len(text)} characters)</summary>" \
           f"<pre>{esc(shown + more)}</pre></details>"
