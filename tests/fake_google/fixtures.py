"""pytest fixtures: ``from tests.fake_google.fixtures import fake_google`` in a conftest."""

from __future__ import annotations

import pytest

from .fake import FakeGoogle


@pytest.fixture
def fake_google():
    """A started FakeGoogle (seeded, real-time clock), stopped after the test."""
    fake = FakeGoogle(seed=1234)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
