"""A playground tab as the tests see it: a test client's WebSocket whose every wait has a deadline.

Starlette's `WebSocketTestSession.receive` blocks until a message comes, for ever if none does (a
worker thread that died, a message the server never sends). Here a thread reads the socket into a
queue, so a test waits for the next message (or for one that matches) at most `within` seconds
and then fails saying what it waited for and what came instead. An "error" message that arrives
while a test waits for something else fails the wait at once, with the server's words.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

WAIT = 30.0
"""Seconds a test waits for a message by default: far longer than any answer takes."""


def no_nan(text: str) -> dict:
    """A message parsed as the page would, refusing NaN and Infinity (not JSON)."""

    def refuse(constant: str) -> Any:
        raise AssertionError(f"the server sent {constant}")

    return json.loads(text, parse_constant=refuse)


class Tab:
    """One WebSocket of a Starlette test client, read by a thread of its own."""

    def __init__(self, ws: Any, name: str = "tab") -> None:
        self.ws = ws
        self.name = name
        self._messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, name=f"{name} reader", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                text = self.ws.receive_text()
            except BaseException as error:  # closed (WebSocketDisconnect) or the app has gone
                self._messages.put(error)
                return
            self._messages.put(text)

    def send(self, message: dict) -> None:
        self.ws.send_json(message)

    def send_text(self, text: str) -> None:
        self.ws.send_text(text)

    def send_bytes(self, data: bytes) -> None:
        self.ws.send_bytes(data)

    def receive(self, within: float = WAIT, waiting_for: str = "a message") -> dict:
        """The next message, parsed; fails when none comes within `within` seconds. A closed
        socket raises its `WebSocketDisconnect`."""
        try:
            item = self._messages.get(timeout=within)
        except queue.Empty:
            raise AssertionError(
                f"{self.name}: waited {within:g} s for {waiting_for}; the server sent nothing"
            ) from None
        if isinstance(item, BaseException):
            raise item
        return no_nan(item)

    def pending(self) -> list[dict]:
        """The messages that have arrived and not been read yet, without waiting."""
        messages = []
        while True:
            try:
                item = self._messages.get_nowait()
            except queue.Empty:
                return messages
            if isinstance(item, BaseException):
                raise item
            messages.append(no_nan(item))

    def receive_until(
        self, match: str | Callable[[dict], bool], within: float = WAIT, what: str | None = None
    ) -> tuple[dict, list[dict]]:
        """Messages until one matches (a message type, or a test of the message), at most
        `within` seconds in all; returns it and the ones before. An "error" message fails the
        wait unless it is what the test waits for."""
        test = (lambda m: m["type"] == match) if isinstance(match, str) else match
        what = what or (f"a {match!r} message" if isinstance(match, str) else "a matching message")
        deadline = time.monotonic() + within
        before: list[dict] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                seen = ", ".join(m["type"] for m in before[-5:])
                raise AssertionError(
                    f"{self.name}: waited {within:g} s for {what}; got {len(before)} others "
                    f"(the last: {seen or 'none'})"
                )
            message = self.receive(left, what)
            if test(message):
                return message, before
            if message["type"] == "error":
                raise AssertionError(
                    f"{self.name}: waiting for {what}, the server sent an error: "
                    f"{message['message']}"
                )
            before.append(message)


@contextlib.contextmanager
def open_tab(client: Any, path: str = "/ws", name: str = "tab", **kwargs: Any) -> Iterator[Tab]:
    """`client.websocket_connect(path)` as a `Tab`."""
    with client.websocket_connect(path, **kwargs) as ws:
        yield Tab(ws, name)
