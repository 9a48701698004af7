"""The verifier's report as one self-contained HTML page (``verivote verify --html``).

The page needs nothing but itself to open: inline CSS, charts drawn as inline SVG, no
script, no font, image or style fetched from anywhere. It shows, in this order: the verdict
and every failure in plain words (failures come first, so nobody has to look for them);
the verified result overall and by category as bar charts; the rounds of any preferential
count; ballots over time; the roll and its amendments with their reasons; and every check
with its outcome and the number of items it covered.

What the verifier established (the verdict, the failures, the result) comes from the
:class:`~verivote.verify.record.Report`. The timeline and the roll's amendments are read
from the record as published, by a cheap second pass that decodes no proof; when the
verdict is INVALID the page says that these figures are only what the record claims.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any, BinaryIO

from verivote.verify.record import RECORD_FILE, Report, checks_summary
from verivote.verify.report import failure_place

MAX_FAILURES = 200
MAX_AMENDMENTS = 500
PALETTE = ("#1f5fa8", "#c8553d", "#2a9d5c", "#8a5cc2", "#d19a1b", "#3c8d99", "#b5487a")


@dataclass
class RecordFacts:
    """What the page shows besides the report, read from the record's lines as published."""

    manifest: dict[str, Any] = field(default_factory=dict)
    roll: Counter[str] = field(default_factory=Counter)
    amendments: list[dict[str, Any]] = field(default_factory=list)
    amendments_total: int = 0
    ballot_times: list[str] = field(default_factory=list)
    audits: int = 0


def _tail_field(line: bytes, name: bytes) -> str:
    """The value of ``"name":"…"`` near the end of a canonical entry line (``time`` and
    ``type`` are the last keys), or ``""``."""
    at = line.rfind(b'"' + name + b'":"')
    if at < 0:
        return ""
    start = at + len(name) + 4
    end = line.find(b'"', start)
    return line[start:end].decode("utf-8", "replace") if end > start else ""


def read_facts(record: Path) -> RecordFacts:
    """One streaming pass over ``board.jsonl``: the manifest, the roll's size by category,
    the amendments and the ballots' times. Lines that do not decode are skipped (the
    verifier has already reported them)."""
    facts = RecordFacts()
    board = record / RECORD_FILE if record.is_dir() else record
    roll_offsets: list[int] = []
    with board.open("rb") as handle:
        while raw := handle.readline():
            line = raw.rstrip(b"\n")
            kind = _tail_field(line, b"type")
            if kind == "ballot":
                facts.ballot_times.append(_tail_field(line, b"time"))
                continue
            if kind == "audit":
                facts.audits += 1
                continue
            if kind not in ("election", "roll", "amend"):
                continue
            try:
                obj = json.loads(line)
                body = obj["body"]
            except (ValueError, KeyError, TypeError):
                continue
            if not isinstance(body, dict):
                continue
            if kind == "election" and not facts.manifest:
                facts.manifest = body
            elif kind == "roll":
                roll_offsets.append(handle.tell() - len(raw))
                for cred in body.get("credentials", []):
                    if isinstance(cred, dict):
                        facts.roll[str(cred.get("category", "?"))] += 1
            else:
                facts.amendments_total += 1
                if len(facts.amendments) < MAX_AMENDMENTS:
                    facts.amendments.append({"time": obj.get("time", ""), **body})
        _categories_of_revoked(handle, roll_offsets, facts.amendments)
    return facts


def _categories_of_revoked(
    handle: BinaryIO, roll_offsets: list[int], amendments: list[dict[str, Any]]
) -> None:
    """Give each listed revocation the category its credential has on the roll (re-reading
    only the roll's lines, so no map of the whole roll is kept)."""
    wanted = {str(a.get("key")): a for a in amendments if a.get("action") == "revoke"}
    for offset in roll_offsets:
        if not wanted:
            return
        handle.seek(offset)
        try:
            body = json.loads(handle.readline())["body"]
        except (ValueError, KeyError, TypeError):
            continue
        for cred in body.get("credentials", []) if isinstance(body, dict) else []:
            if isinstance(cred, dict) and (a := wanted.pop(str(cred.get("key")), None)):
                a["category"] = cred.get("category", "")


def _names(manifest: dict[str, Any]) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    for contest in manifest.get("contests", []):
        for cand in contest.get("candidates", []):
            names[(contest.get("id", ""), cand.get("id", ""))] = cand.get("name", cand.get("id"))
    return names


def _titles(manifest: dict[str, Any]) -> dict[str, str]:
    return {c.get("id", ""): c.get("title", c.get("id", "")) for c in manifest.get("contests", [])}


def _bars(values: list[tuple[str, int | float]], width: int = 560) -> str:
    """A horizontal bar chart as inline SVG, each bar labelled with its name and value."""
    if not values:
        return "<p class='muted'>nothing to show</p>"
    top = max((v for _, v in values), default=0) or 1
    row, pad = 26, 60
    label_w = min(170, width // 3)
    height = row * len(values) + 6
    parts = [
        f"<svg class='chart' role='img' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' xmlns='http://www.w3.org/2000/svg'>"
    ]
    for i, (name, value) in enumerate(values):
        y = i * row + 3
        w = max(1.0, (width - label_w - pad) * value / top) if value else 0
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f"<text x='{label_w - 8}' y='{y + 16}' text-anchor='end'>{escape(name)}</text>"
            f"<rect x='{label_w}' y='{y}' width='{w:.1f}' height='20' fill='{colour}'/>"
            f"<text x='{label_w + w + 6:.1f}' y='{y + 16}'>{_num(value)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _num(value: int | float | str) -> str:
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


def _timeline(times: list[str], width: int = 720, height: int = 160) -> str:
    """Ballots cast over time: a column chart with up to 48 columns from first to last."""
    moments = []
    for t in times:
        try:
            moments.append(datetime.fromisoformat(t.replace("Z", "+00:00")))
        except ValueError:
            continue
    if not moments:
        return "<p class='muted'>no ballots were cast</p>"
    first, last = min(moments), max(moments)
    span = max((last - first).total_seconds(), 1.0)
    columns = min(48, max(1, len(moments)))
    counts = [0] * columns
    for m in moments:
        counts[min(columns - 1, int((m - first).total_seconds() / span * columns))] += 1
    top = max(counts)
    bar_w = (width - 40) / columns
    parts = [
        f"<svg class='chart' role='img' width='{width}' height='{height + 30}' "
        f"viewBox='0 0 {width} {height + 30}' xmlns='http://www.w3.org/2000/svg'>"
    ]
    for i, n in enumerate(counts):
        h = (height - 10) * n / top if top else 0
        parts.append(
            f"<rect x='{20 + i * bar_w:.1f}' y='{height - h:.1f}' width='{max(bar_w - 1, 1):.1f}'"
            f" height='{h:.1f}' fill='{PALETTE[0]}'><title>{n:,} ballots</title></rect>"
        )
    parts.append(
        f"<text x='20' y='{height + 20}'>{escape(_fmt(first))}</text>"
        f"<text x='{width - 20}' y='{height + 20}' text-anchor='end'>{escape(_fmt(last))}</text>"
        "</svg>"
    )
    return "".join(parts)


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _failures(report: Report) -> str:
    if report.valid:
        return ""
    items = []
    for f in report.failures[:MAX_FAILURES]:
        where = failure_place(f)
        where = where[0].upper() + where[1:]
        items.append(
            f"<li><strong>{escape(where)}</strong> failed the check "
            f"<code>{escape(f.check)}</code>: {escape(f.reason)}</li>"
        )
    more = len(report.failures) - MAX_FAILURES
    tail = (
        f"<p>… and {more:,} more; run <code>verivote verify --json</code>.</p>" if more > 0 else ""
    )
    return (
        "<section id='failures' class='bad'><h2>What failed</h2>"
        f"<p>{len(report.failures):,} check(s) failed. Each names the entry, the check and "
        "the reason.</p><ol>" + "".join(items) + "</ol>" + tail + "</section>"
    )


def _result(report: Report, manifest: dict[str, Any]) -> str:
    if report.result is None:
        return (
            "<section id='result'><h2>Result</h2><p>No verified result: the record has none, "
            "or it did not verify.</p></section>"
        )
    names, titles = _names(manifest), _titles(manifest)
    parts = ["<section id='result'><h2>Result</h2>"]
    for contest in report.result.get("contests", []):
        cid = contest.get("id", "")
        parts.append(f"<h3>{escape(titles.get(cid, cid))}</h3>")
        overall = contest.get("overall", {})
        rows = sorted(overall.items(), key=lambda kv: (-kv[1], kv[0]))
        parts.append("<h4>Overall</h4>")
        parts.append(_bars([(names.get((cid, k), k), v) for k, v in rows]))
        groups = contest.get("groups", [])
        if groups:
            parts.append("<h4>By category</h4><table><tr><th>candidate</th><th>overall</th>")
            for g in groups:
                label = " + ".join(g.get("categories", []))
                parts.append(f"<th>{escape(label)}</th>")
            parts.append("</tr>")
            for k, v in rows:
                parts.append(f"<tr><td>{escape(names.get((cid, k), k))}</td><td>{_num(v)}</td>")
                for g in groups:
                    parts.append(f"<td>{_num(g.get('counts', {}).get(k, 0))}</td>")
                parts.append("</tr>")
            parts.append("</table>")
            parts.append("<div class='multiples'>")
            for g in groups:
                label = " + ".join(g.get("categories", []))
                counts = g.get("counts", {})
                parts.append(f"<figure><figcaption>{escape(label)}</figcaption>")
                values = [(names.get((cid, k), k), counts.get(k, 0)) for k, _ in rows]
                parts.append(_bars(values, width=300) + "</figure>")
            parts.append("</div>")
        parts.append(_stages(contest, cid, names))
    parts.append("</section>")
    return "".join(parts)


def _stages(contest: dict[str, Any], cid: str, names: dict[tuple[str, str], str]) -> str:
    """The rounds of a preferential count, when the result carries them."""
    stages = contest.get("stages")
    if not isinstance(stages, list) or not stages:
        return ""
    candidates: list[str] = []
    for stage in stages:
        for k in stage.get("votes", {}):
            if k not in candidates:
                candidates.append(k)
    head = "".join(f"<th>{escape(names.get((cid, k), k))}</th>" for k in candidates)
    rows = []
    for number, stage in enumerate(stages, start=1):
        votes = stage.get("votes", {})
        cells = "".join(f"<td>{_num(votes.get(k, ''))}</td>" for k in candidates)
        action = escape(str(stage.get("action", "")))
        nt = _num(stage.get("non_transferable", ""))
        rows.append(f"<tr><td>{number}</td><td>{action}</td>{cells}<td>{nt}</td></tr>")
    return (
        "<h4>Rounds of the count</h4><table class='stages'><tr><th>round</th><th>action</th>"
        f"{head}<th>non-transferable</th></tr>" + "".join(rows) + "</table>"
    )


def _roll(facts: RecordFacts) -> str:
    total = sum(facts.roll.values())
    parts = [
        "<section id='roll'><h2>The roll and its amendments</h2>",
        f"<p>{total:,} credentials on the published roll.</p>",
        _bars(sorted(facts.roll.items(), key=lambda kv: (-kv[1], kv[0]))),
    ]
    if facts.amendments_total:
        parts.append(
            f"<h3>{facts.amendments_total:,} amendment(s)</h3><table><tr><th>time</th>"
            "<th>action</th><th>credential</th><th>category</th><th>reason</th></tr>"
        )
        for a in facts.amendments:
            found = a.get("credential")
            cred: dict[str, Any] = found if isinstance(found, dict) else {}
            key = str(a.get("key") or cred.get("key", ""))
            parts.append(
                f"<tr><td>{escape(str(a.get('time', '')))}</td>"
                f"<td>{escape(str(a.get('action', '')))}</td>"
                f"<td><code>{escape(key[:16])}…</code></td>"
                f"<td>{escape(str(cred.get('category') or a.get('category', '')))}</td>"
                f"<td>{escape(str(a.get('reason', '')))}</td></tr>"
            )
        parts.append("</table>")
        if facts.amendments_total > len(facts.amendments):
            parts.append(f"<p>The first {len(facts.amendments):,} are listed.</p>")
    else:
        parts.append("<p>No amendments.</p>")
    parts.append("</section>")
    return "".join(parts)


def _checks(report: Report) -> str:
    rows = []
    for row in checks_summary(report):
        ok = row["failed"] == 0
        outcome = "passed" if ok else f"{row['failed']:,} failed"
        checks = ", ".join(f"<code>{escape(c)}</code>" for c in row["checks"])
        rows.append(
            f"<tr class='{'ok' if ok else 'bad'}'><td>{escape(row['type'])}</td>"
            f"<td>{row['entries']:,}</td><td>{outcome}</td><td>{checks}</td></tr>"
        )
    return (
        "<section id='checks'><h2>Every check</h2><p>Besides these, every entry goes through "
        "<code>entry.decode</code>, <code>entry.order</code> and <code>entry.time</code>.</p>"
        "<table><tr><th>entries</th><th>items</th><th>outcome</th><th>checks</th></tr>"
        + "".join(rows)
        + "</table></section>"
    )


STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1c1c1c}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px} h2{border-bottom:1px solid #ddd;padding-bottom:4px}
.verdict{padding:16px 20px;border-radius:6px;font-size:20px;font-weight:600;margin:16px 0}
.verdict.valid{background:#e3f4e8;color:#145c2e}.verdict.invalid{background:#fbe5e1;color:#8a1f0f}
section.bad{border-left:4px solid #c8553d;padding-left:12px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left}tr.bad td{background:#fbe5e1}.muted{color:#666}code{font-size:13px}
svg.chart text{font-size:13px;fill:#1c1c1c}dl{display:grid;grid-template-columns:auto 1fr;
gap:2px 16px}dt{color:#555;white-space:nowrap}dd{margin:0;overflow-wrap:anywhere}
.multiples{display:flex;flex-wrap:wrap;gap:8px 24px}figure{margin:0}
figcaption{font-weight:600;margin:4px 0}
"""


def render_html(report: Report, record: Path) -> str:
    """The whole page for ``report``, the verifier's report on the record at ``record``.

    Guarantees a self-contained document (no external resource, no script) in which every
    value from the record is HTML-escaped. Raises ``OSError`` if the record cannot be read.
    """
    facts = read_facts(record)
    manifest = facts.manifest
    title = str(manifest.get("title") or report.election_id or "election")
    verdict_class = "valid" if report.valid else "invalid"
    verdict = (
        "VALID: every entry passed every check"
        if report.valid
        else f"INVALID: {len(report.failures):,} check(s) failed"
    )
    caveat = (
        ""
        if report.valid
        else "<p class='muted'>The record did not verify: the figures below the failures are "
        "what the record claims, not what the verifier established.</p>"
    )
    ballots = len(facts.ballot_times)
    summary = (
        "<dl>"
        f"<dt>election</dt><dd>{escape(report.election_id or '?')}</dd>"
        f"<dt>fingerprint</dt><dd><code>{escape(report.fingerprint or '?')}</code></dd>"
        f"<dt>voting</dt><dd>{escape(str(manifest.get('opens', '?')))} to "
        f"{escape(str(manifest.get('closes', '?')))}</dd>"
        f"<dt>entries</dt><dd>{report.entries:,} (signed tree heads: {report.heads:,})</dd>"
        f"<dt>ballots cast</dt><dd>{ballots:,} (audited: {facts.audits:,})</dd>"
        "</dl>"
    )
    body = [
        f"<h1>{escape(title)}</h1><p class='muted'>Verification report by verivote</p>",
        f"<div class='verdict {verdict_class}' id='verdict'>{escape(verdict)}</div>",
        _failures(report),
        caveat,
        summary,
        _result(report, manifest),
        "<section id='timeline'><h2>Ballots over time</h2>",
        _timeline(facts.ballot_times),
        "</section>",
        _roll(facts),
        _checks(report),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}: verification report</title><style>{STYLE}</style></head>"
        "<body><main>" + "".join(body) + "</main></body></html>\n"
    )


def write_html(report: Report, record: Path, out: Path) -> None:
    """Write :func:`render_html` to ``out`` (UTF-8). Raises ``OSError`` if it cannot."""
    out.write_text(render_html(report, record), encoding="utf-8")
