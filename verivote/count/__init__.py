"""Counting rules for preferential ballots: pure functions over plaintext rankings.

The ``count`` layer sits above ``encoding`` and knows nothing of the cryptography: the
election layer decrypts the mixed ballots, turns each into a ranking with
:func:`check_ranking` (or counts it invalid, with the reason), builds a :class:`Profile`
and calls a rule. Every rule returns a :class:`CountReport`, stage by stage, with exact
arithmetic (integers in hundred-thousandths of a vote) and every lot drawn; ties by lot are
reproducible from the caller's seed. ``docs/counting.md`` states the rules.
"""

from verivote.count.av import alternative_vote
from verivote.count.blt import BltError, parse_blt, read_blt
from verivote.count.profile import (
    REASONS,
    InvalidRanking,
    Profile,
    build_profile,
    check_ranking,
    normalise_name,
    profile_from_fields,
)
from verivote.count.report import SCALE, CountReport, Lot, Stage, votes_text
from verivote.count.single import approval, plurality
from verivote.count.stv import scottish_stv
from verivote.count.ties import lot_digest

RULES = {
    "av": alternative_vote,
    "scottish-stv": scottish_stv,
    "plurality": plurality,
    "approval": approval,
}

__all__ = [
    "REASONS",
    "RULES",
    "SCALE",
    "BltError",
    "CountReport",
    "InvalidRanking",
    "Lot",
    "Profile",
    "Stage",
    "alternative_vote",
    "approval",
    "build_profile",
    "check_ranking",
    "lot_digest",
    "normalise_name",
    "parse_blt",
    "plurality",
    "profile_from_fields",
    "read_blt",
    "scottish_stv",
    "votes_text",
]
