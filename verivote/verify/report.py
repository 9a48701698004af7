"""The verifier's report as text a person can read."""

from __future__ import annotations

from verivote.verify.record import Failure, Report, checks_summary

MAX_LISTED = 50


def failure_place(failure: Failure) -> str:
    """Where a failure is, in words: ``head N``, ``the record`` (a check of the whole log
    or of its end) or ``entry N (TYPE)``."""
    if failure.type == "head":
        return f"head {failure.index}"
    if failure.type in ("log", "-"):
        return "the record"
    return f"entry {failure.index} ({failure.type})"


def render(report: Report) -> str:
    """A plain-text report: each kind of entry with the checks it went through and how many
    passed, the verdict, and every failure (the first :data:`MAX_LISTED` in full)."""
    lines = [
        f"election     {report.election_id or '?'}",
        f"fingerprint  {report.fingerprint or '?'}",
        f"entries      {report.entries:,}   signed tree heads {report.heads:,}",
        "",
        f"{'entries':<14}{'checked':>9}{'failed':>8}  checks",
    ]
    for row in checks_summary(report):
        checks = ", ".join(c.split(".", 1)[1] for c in row["checks"])
        lines.append(f"{row['type']:<14}{row['entries']:>9,}{row['failed']:>8,}  {checks}")
    lines.append("")
    for notice in report.notices:
        lines.append(f"notice       {notice}")
    if report.notices:
        lines.append("")
    if report.valid:
        lines.append("verdict      VALID: every entry passed every check")
        return "\n".join(lines)
    lines.append(f"verdict      INVALID: {len(report.failures):,} failure(s)")
    for f in report.failures[:MAX_LISTED]:
        lines.append(f"  {failure_place(f)} failed {f.check}: {f.reason}")
    if len(report.failures) > MAX_LISTED:
        rest = report.failures[MAX_LISTED:]
        by_check: dict[str, int] = {}
        for f in rest:
            by_check[f.check] = by_check.get(f.check, 0) + 1
        summary = ", ".join(f"{n} × {c}" for c, n in sorted(by_check.items()))
        lines.append(f"  … and {len(rest):,} more: {summary} (all listed with --json)")
    return "\n".join(lines)
