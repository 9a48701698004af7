"""The bulletin board: an append-only log of signed entries that validates before it
appends."""
