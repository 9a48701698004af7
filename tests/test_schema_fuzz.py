"""schemathesis against the schema the board serves: every operation, at a small example
count, called on the ASGI application itself. No 5xx other than a documented 503, every
answer as documented (status code, content type, body schema), and nothing appended."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from live_board import voting_election

from verivote.board.log import Board
from verivote.server.app import create_app

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis: pip install -e '.[test]'")

from schemathesis.checks import positive_data_acceptance  # noqa: E402

EXAMPLES = 10


def test_served_schema_holds():
    sim = voting_election(voters=6)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(sim.board))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    before = list(sim.board.store.lines())

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call()
            assert response.status_code < 500 or response.status_code == 503, response.text
            # A schema cannot say which bodies carry valid proofs: that a schema-valid body is
            # refused (422) is expected here, every other check runs.
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        run()
    assert list(sim.board.store.lines()) == before  # random bodies are never ballots
    replayed = Board.open(sim.board.store, sim.clock, sim.board_signer)
    assert len(replayed) == len(sim.board)
