"""A count report as a table a person can read: one row per candidate, one column per
stage (wrapped to the width), the running non-transferable and loss rows, then who was
elected and excluded, and every lot drawn."""

from __future__ import annotations

from verivote.count.report import RULE_NAMES, CountReport, Stage, votes_text

WIDTH = 100


def _action(report: CountReport, stage: Stage) -> str:
    if stage.candidate is None:
        return "first preferences" if stage.action == "first-preferences" else stage.action
    name = report.candidates[stage.candidate]
    return f"surplus of {name}" if stage.action == "surplus" else f"exclusion of {name}"


def render_text(report: CountReport) -> str:
    """The report as plain text, every figure as in :meth:`CountReport.to_dict`."""
    invalid = sum(n for _, n in report.invalid)
    head = f"{RULE_NAMES.get(report.rule, report.rule)}, {report.seats} seat(s); "
    head += f"{report.valid_ballots} valid ballot(s), {invalid} invalid"
    if invalid:
        head += " (" + ", ".join(f"{r} {n}" for r, n in report.invalid) + ")"
    if report.quota is not None:
        head += f"; quota {votes_text(report.quota)}"
    lines = [head]
    if report.withdrawn:
        lines.append("withdrawn: " + ", ".join(report.names(report.withdrawn)))
    lines.append("")
    lines += [f"  stage {s.number:>3}  {_action(report, s)}" for s in report.stages]
    standing = [c for c in range(len(report.candidates)) if c not in report.withdrawn]
    label = max([len(report.candidates[c]) for c in standing] + [16])
    cell = 2 + max(len(votes_text(max((*s.votes, s.non_transferable)))) for s in report.stages)
    per_row = max(1, (WIDTH - label) // cell)
    for start in range(0, len(report.stages), per_row):
        chunk = report.stages[start : start + per_row]
        lines.append("")
        lines.append("stage".ljust(label) + "".join(f"{s.number:>{cell}}" for s in chunk))
        for c in standing:
            row = report.candidates[c].ljust(label)
            lines.append(row + "".join(f"{votes_text(s.votes[c]):>{cell}}" for s in chunk))
        if report.rule in ("av", "scottish-stv"):
            nt = "".join(f"{votes_text(s.non_transferable):>{cell}}" for s in chunk)
            lines.append("non-transferable".ljust(label) + nt)
        if report.rule == "scottish-stv":
            loss = "".join(f"{votes_text(s.loss):>{cell}}" for s in chunk)
            lines.append("loss".ljust(label) + loss)
    lines.append("")
    at_end = set(report.elected_at_end)
    reason = {"scottish-stv": "quota", "av": "majority"}.get(report.rule, "most votes")
    for s in report.stages:
        for c in s.elected:
            how = "at the end" if c in at_end else reason
            lines.append(f"elected   {report.candidates[c]} ({how}, stage {s.number})")
    for i, c in enumerate(report.excluded, start=1):
        lines.append(f"excluded  {report.candidates[c]} ({i})")
    for lot in report.lots:
        tied = ", ".join(report.names(lot.tied))
        drawn = ", ".join(report.names(lot.order))
        lines.append(f"lot       stage {lot.stage}, {lot.purpose}: {tied} drawn as {drawn}")
    if report.lots:
        lines.append(f"seed      {report.seed.hex() or '(empty)'}")
    return "\n".join(lines)
