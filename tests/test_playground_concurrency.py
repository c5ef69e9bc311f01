"""Many playground tabs at once, over the test client's WebSockets: each tab trains in worker
threads while others draw their heatmaps under `no_grad`, so any state one thread shares with
another (grad mode, a random generator) shows up here as an error message, a stalled epoch
counter or losses that differ from the same link trained alone. Every wait has a deadline."""

import contextlib
import time

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")

from starlette.testclient import TestClient  # noqa: E402

from glassnet.playground.app import create_app  # noqa: E402
from glassnet.playground.session import TrainingSession  # noqa: E402
from glassnet.playground.settings import parse_query  # noqa: E402
from playground_tabs import open_tab  # noqa: E402

# Eight different lessons, each one epoch per update (at most 50 mini-batches per epoch).
QUERIES = [
    "dataset=circle&networkShape=4,2&seed=0",
    "dataset=xor&networkShape=6,3&activation=relu&seed=1&xTimesY=true",
    "dataset=gauss&networkShape=3&activation=sigmoid&learningRate=0.1&seed=2",
    "dataset=spiral&classes=3&networkShape=8,8,4&optimizer=adam&learningRate=0.01&seed=3",
    "dataset=blobs&classes=4&networkShape=5,5&dropout=0.2&seed=4",
    "dataset=plane&networkShape=3&batchSize=20&seed=5",
    "dataset=multi_gaussian&networkShape=6,6&batchSize=30&optimizer=momentum&seed=6",
    "dataset=circle&networkShape=8,8,8&dropout=0.3&regularization=L2&regularizationRate=0.01"
    "&seed=7&sinX=true",
]
PLAYING_SECONDS = 10.0
CHECKS = 5
"""The epoch counters are read this many times while the tabs play; each read must be higher."""


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def epoch_losses(updates: list[dict]) -> dict[int, tuple[float, float]]:
    """The losses each update reported, by epoch (every update here ends an epoch)."""
    return {u["epoch"]: (u["trainLoss"], u["testLoss"]) for u in updates if u["type"] == "update"}


def losses_alone(query: str, epochs: int) -> dict[int, tuple[float, float]]:
    """The same link trained alone, in this thread, as a playing page trains it."""
    session = TrainingSession(parse_query(query))
    for _ in range(epochs):
        assert session.train_update(), session.diverged
    return {epoch: (train, test) for epoch, train, test in session.history}


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_eight_tabs_train_at_once_as_each_would_alone(client):
    with contextlib.ExitStack() as stack:
        tabs = [
            stack.enter_context(open_tab(client, f"/ws?{query}", name=f"tab {k} ({query[:20]})"))
            for k, query in enumerate(QUERIES)
        ]
        for tab in tabs:
            assert tab.receive()["type"] == "state"
            tab.send({"action": "play"})
        messages: list[list[dict]] = [[] for _ in tabs]
        last_epochs = [0] * len(tabs)
        for check in range(CHECKS):
            time.sleep(PLAYING_SECONDS / CHECKS)
            for k, tab in enumerate(tabs):
                arrived = tab.pending()
                messages[k] += arrived
                errors = [m["message"] for m in arrived if m["type"] in ("error", "diverged")]
                assert not errors, f"{tab.name}: {errors}"
                epochs = [m["epoch"] for m in arrived if m["type"] == "update"]
                assert epochs and max(epochs) > last_epochs[k], (
                    f"{tab.name}: no new epoch in check {check + 1} (still {last_epochs[k]})"
                )
                last_epochs[k] = max(epochs)
            # a backprop request now and then: a copy of the network, forward and backward,
            # while the other tabs train and draw
            tabs[check].send({"action": "backprop", "index": check})
        for k, tab in enumerate(tabs):
            tab.send({"action": "pause"})
            _, before = tab.receive_until(lambda m: m == {"type": "playing", "playing": False})
            messages[k] += before
    for k, (query, tab, received) in enumerate(zip(QUERIES, tabs, messages)):
        backprops = [m["index"] for m in received if m["type"] == "backprop"]
        assert backprops == ([k] if k < CHECKS else []), f"{tab.name}: {backprops}"
        seen = epoch_losses(received)
        alone = losses_alone(query, max(seen))
        assert {e: alone[e] for e in seen} == seen, f"{tab.name}: the losses differ from alone"
    counts = [max(epoch_losses(m)) for m in messages]
    print(f"\nplayground: epochs per tab, 8 tabs playing for {PLAYING_SECONDS:g} s: {counts}")


@pytest.mark.timeout(120)
def test_after_a_burst_of_sixteen_tabs_a_new_tab_still_trains(client):
    """Sixteen tabs open at once (the server's limit), each gets its first state, all close;
    then one more tab trains, its epochs rising with no error."""
    with contextlib.ExitStack() as stack:
        burst = [stack.enter_context(open_tab(client, name=f"burst {k}")) for k in range(16)]
        for tab in burst:
            assert tab.receive()["type"] == "state"
    assert not client.app.state.connections  # every place is free again
    with open_tab(client, "/ws?networkShape=4,4&seed=3", name="after the burst") as tab:
        tab.receive_until("state")
        tab.send({"action": "play"})
        epochs = []
        for _ in range(10):
            update, _ = tab.receive_until("update", within=10)
            epochs.append(update["epoch"])
        tab.send({"action": "pause"})
        tab.receive_until(lambda m: m == {"type": "playing", "playing": False})
    assert epochs == list(range(epochs[0], epochs[0] + 10)), epochs
