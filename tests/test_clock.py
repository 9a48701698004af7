"""Entries are timed by the board's clock; the simulation schedules its election from the
time it is given (default now) and works on a board that runs on the real clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from verivote.demo import (
    GIVEN_CLOCK_STEP,
    LEAD,
    SimulatedClock,
    SimulatedElection,
    system_clock,
)
from verivote.election.manifest import format_time
from verivote.errors import EntryRejected

CHOICE = {"leader": ["carver"], "rule-change": ["no"]}


def test_simulation_on_the_real_clock_accepts_ballots():
    before = datetime.now(UTC).replace(microsecond=0)
    sim = SimulatedElection(4, seed=1, clock=system_clock)
    sim.run_ceremony()
    sim.publish_roll()
    index = sim.cast(0, CHOICE)
    entry = sim.board.entry(index)
    after = format_time(datetime.now(UTC))
    assert entry.type == "ballot"
    assert sim.manifest.opens <= entry.time <= after
    assert format_time(before) <= sim.manifest.opens
    # the simulation moved no clock: closing time is still ahead, so the board refuses close
    with pytest.raises(EntryRejected) as info:
        sim.close()
    assert info.value.check == "close.time"


def test_injected_clock_times_every_entry():
    """A clock of its own (here running from ``now`` at the real pace): every entry is
    timed by it; the simulation waits for it to pass the ceremony's deadlines (a second
    apart) and opens voting at the last."""
    now = datetime.now(UTC).replace(microsecond=0)
    began = time.monotonic()
    readings: list[str] = []

    def clock() -> str:
        readings.append(format_time(now + timedelta(seconds=time.monotonic() - began)))
        return readings[-1]

    sim = SimulatedElection(3, seed=2, start=now, clock=clock, voting=timedelta(hours=2))
    sim.run_ceremony()
    sim.publish_roll()
    sim.cast(1, CHOICE)
    assert sim.manifest.opens == format_time(now + 6 * GIVEN_CLOCK_STEP)
    assert sim.manifest.opens == sim.schedule.justifications
    assert sim.manifest.closes == format_time(now + 6 * GIVEN_CLOCK_STEP + timedelta(hours=2))
    assert readings and {e.time for e in sim.board} <= set(readings)


def test_simulated_clock_starts_at_start_and_the_whole_election_runs():
    start = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
    sim = SimulatedElection(5, seed=3, start=start)
    assert sim.manifest.opens == format_time(start + LEAD)
    assert sim.manifest.election_id == "leadership-2031"
    sim.run_ceremony()
    sim.publish_roll()
    sim.cast(0, CHOICE)
    sim.close()
    result = sim.count(present=[1, 3])
    assert result["contests"][0]["overall"]["carver"] == 1
    times = [e.time for e in sim.board]
    assert times == sorted(times) and times[0] > format_time(start)


def test_default_start_is_now():
    before = datetime.now(UTC).replace(microsecond=0)
    sim = SimulatedElection(2, seed=4)
    opens = datetime.strptime(sim.manifest.opens, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + LEAD <= opens <= datetime.now(UTC) + LEAD


def test_naive_start_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedElection(2, start=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2030, 1, 1))
