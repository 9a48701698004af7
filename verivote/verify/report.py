"""The verifier's report as text a person can read."""

from __future__ import annotations

from verivote.verify.record import Report


def render(report: Report) -> str:
    """A plain-text report: what was checked, the verdict, and every failure."""
    lines = [
        f"election   {report.election_id or '?'}",
        f"fingerprint {report.fingerprint[:32]}…" if report.fingerprint else "fingerprint ?",
        f"entries    {report.entries}",
    ]
    for name, count in sorted(report.by_type.items()):
        lines.append(f"  {name:<14}{count:>9}")
    if report.valid:
        lines.append("verdict    VALID: every entry passed every check")
    else:
        lines.append(f"verdict    INVALID: {len(report.failures)} failure(s)")
        for f in report.failures:
            lines.append(f"  entry {f.index} ({f.type}) failed {f.check}: {f.reason}")
    return "\n".join(lines)
