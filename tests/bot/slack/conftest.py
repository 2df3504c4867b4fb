"""Fixtures of the Slack tests: one running app per test module."""

from __future__ import annotations

import pytest_asyncio

from wave_testing.slack_app import running_slack_app


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def wave(tmp_path_factory):
    async with running_slack_app(tmp_path_factory.mktemp("slack")) as harness:
        yield harness
