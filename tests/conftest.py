"""Fixtures: every group-dependent test runs once per group."""

from __future__ import annotations

import pytest

from verivote import elgamal
from verivote.groups import GROUP_NAMES, get_group

LABEL = b"verivote/tests"


@pytest.fixture(scope="session", params=GROUP_NAMES)
def group(request):
    return get_group(request.param)


@pytest.fixture(scope="session")
def other_group(group):
    return get_group(next(n for n in GROUP_NAMES if n != group.name))


@pytest.fixture(scope="session")
def keypair(group):
    """A fixed key pair (deterministic, so failures reproduce)."""
    secret = group.hash_to_scalar(LABEL, b"keypair")
    public = group.generator**secret
    return elgamal.KeyPair(secret, public)
