"""A bug in one part of coio-tui's network side costs that part only: it is shown, restarted,
and every other tab keeps chatting."""

from __future__ import annotations

from typing import Any

import pytest

from coio.tui.app import CoioApp
from coio.tui.settings import Settings
from tests.support import running_server
from tests.tui.pilot_support import chats, log_text, wait_for

pytestmark = pytest.mark.asyncio


async def test_an_error_in_one_tabs_connection_is_shown_there_and_it_restarts() -> None:
    """An exception inside tab 1's trio side: tab 1 says so and reconnects; tab 2 chats on."""
    with running_server() as server:
        app = CoioApp(Settings(port=server.port, clients=2))
        async with app.run_test() as pilot:
            one, two = chats(app)
            await wait_for(pilot, lambda: one.link is not None)
            assert one.link is not None
            await wait_for(pilot, lambda: two.link is not None)
            assert two.link is not None
            await wait_for(pilot, lambda: one.link_pane.banner is True and two.connected)
            worker = one.link.worker
            reader = worker._reader
            injected: list[str] = []

            async def failing_reader(*args: Any) -> None:
                if not injected:
                    injected.append("raised")
                    raise RuntimeError("injected fault")
                await reader(*args)

            worker._reader = failing_reader  # type: ignore[method-assign]
            one.link.disconnect()
            one.link.connect()  # the new session's reader raises
            await wait_for(
                pilot,
                lambda: (
                    "internal error: RuntimeError('injected fault')" in log_text(one.transcript)
                ),
                explain=lambda: log_text(one.transcript)[-400:],
            )
            # Meanwhile tab 2 goes on chatting.
            two.link.send_line("still here")
            await wait_for(pilot, lambda: two.stats.echoed_lines == 1)
            assert two.stats.mismatches == 0
            # Tab 1's connection starts again on its own and echoes.
            await wait_for(pilot, lambda: one.connected and one.link_pane.banner is True)
            one.link.send_line("back again")
            await wait_for(pilot, lambda: one.stats.echoed_lines == 1)
            assert "← BACK AGAIN" in log_text(one.transcript)
            assert app.is_running
            assert app.return_code is None
