"""The independent verifier: reads a published record and checks every rule.

Imports nothing from storage, servers or the command line: an observer needs only
``pip install verivote`` and the record.
"""

from verivote.verify.record import Failure, RecordUnreadable, Report, verify_record

__all__ = ["Failure", "RecordUnreadable", "Report", "verify_record"]
