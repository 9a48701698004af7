"""What a voter runs with their receipt: is my ballot on the board, and is it counted?

    python examples/voter_check.py RECEIPT SOURCE [SOURCE …]

RECEIPT is the file the voter kept (the ``vvr1:…`` text ``verivote vote`` or a ballot
service handed back). Each SOURCE is the live board's URL or a downloaded record directory
(``verivote export``, or a copy of the board's ``/record``): checking both shows that
the board and the record everybody else verifies agree about this ballot. For a record
directory the whole record is verified too, so "counted" means counted in a result that
checks.

Everything comes from verivote's public API: :func:`verivote.read_receipt`,
:meth:`verivote.ElectionClient.check_receipt` (a live board),
:func:`verivote.check_receipt` over a :class:`verivote.RecordSource` (a record) and
:func:`verivote.verify_record`.

Exit code 0 when, at every source, the ballot is there and counted (or will be counted,
if voting is still open); 1 when a source shows it missing, replaced, revoked, only an
audit, or the board's history rewritten, or the record does not verify; 2 when the
receipt or a source cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import verivote


def check_one(receipt: verivote.Receipt, source: str) -> bool | None:
    """Check ``receipt`` at ``source``; print the verdict in plain words. True if the
    ballot is there and counted, None if it is there and still to be counted, False if
    something is wrong."""
    live = source.startswith(("http://", "https://"))
    where = "the live board" if live else f"the record in {source}"
    try:
        if live:
            verdict = verivote.ElectionClient(source).check_receipt(receipt)
        else:
            verdict = verivote.check_receipt(receipt, verivote.RecordSource(Path(source)))
    except verivote.ReceiptError as exc:
        print(f"NOT OK at {where}: {exc}")
        return False
    print(f"at {where}: {verdict.message}")
    if not live:
        report = verivote.verify_record(Path(source))
        if not report.valid:
            first = report.failures[0]
            print(f"NOT OK: the record does not verify ({len(report.failures)} failures; "
                  f"first: {first})")  # fmt: skip
            return False
        state = "with the result" if verdict.counted else "so far (no result yet)"
        print(f"  and the whole record verifies {state}: every ballot's proofs, the tally, "
              "the decryptions")  # fmt: skip
    return True if verdict.counted else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("receipt", type=Path, help="the receipt file (vvr1:…)")
    parser.add_argument("sources", nargs="+", help="the board's URL and/or a record directory")
    args = parser.parse_args(argv)
    try:
        receipt = verivote.read_receipt(args.receipt.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, verivote.DecodeError) as exc:
        print(f"voter_check: cannot read the receipt {args.receipt}: {exc}", file=sys.stderr)
        return 2
    print(f"receipt for election {receipt.election_id!r}, ballot at entry {receipt.index}, "
          f"tracking code {receipt.tracking_code}")  # fmt: skip
    results = []
    for source in args.sources:
        try:
            results.append(check_one(receipt, source))
        except (OSError, verivote.VerivoteError, verivote.BoardClientError) as exc:
            print(f"voter_check: cannot read {source}: {exc}", file=sys.stderr)
            return 2
    if all(r is True for r in results):
        print("YOUR BALLOT IS THERE AND WAS COUNTED at every place checked.")
        return 0
    if all(r is not False for r in results):
        print("YOUR BALLOT IS THERE and will count unless you vote again or are barred.")
        return 0
    print(
        "YOUR BALLOT DOES NOT COUNT (see above). If you did not vote again yourself and were "
        "not told you were barred, something is wrong: keep this receipt as evidence."
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
