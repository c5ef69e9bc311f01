"""The playground's web server, without a browser: the page and its files, the settings check,
the WebSocket protocol (play, pause, step, settings, divergence, bad messages, the backprop view,
weight edits), the export download, CSV uploads, the limits, the update rate, and the
`glassnet playground` command."""

import inspect
import io
import json
import math
import subprocess
import sys
import time
import urllib.request
import zipfile

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")

from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from glassnet.cli import build_parser, main  # noqa: E402
from glassnet.playground.app import create_app  # noqa: E402
from playground_tabs import open_tab  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="play"' in page.text and "/static/js/main.js" in page.text
    for path, kind in [
        ("/static/js/main.js", "javascript"),
        ("/static/js/draw.js", "javascript"),
        ("/static/playground.css", "text/css"),
    ]:
        response = client.get(path)
        assert response.status_code == 200 and kind in response.headers["content-type"], path
    assert client.get("/static/nothing.js").status_code == 404


def test_settings_are_checked_over_http(client):
    ok = client.get("/api/settings?dataset=xor&networkShape=4,4")
    assert ok.status_code == 200 and ok.json()["settings"]["networkShape"] == "4,4"
    for query, named in [
        ("networkShape=-3", "networkShape"),
        ("networkShape=" + ",".join(["8"] * 100), "at most 6 hidden layers"),
        ("learningRate=1e9", "learningRate"),
        ("batchSize=abc", "batchSize"),
    ]:
        response = client.get(f"/api/settings?{query}")
        assert response.status_code == 400 and named in response.json()["error"], query


def test_a_tab_gets_its_state_and_step_trains_exactly_one_epoch(client):
    with open_tab(client, "/ws?dataset=xor&networkShape=4&percTrainData=40") as ws:
        state = ws.receive()
        assert state["type"] == "state" and state["epoch"] == 0 and not state["playing"]
        assert state["layers"] == [2, 4, 1] and state["problem"] == "classification"
        assert "dataset=xor" in state["query"] and "networkShape=4&" in state["query"]
        assert len(state["train"]["points"]) == 200 and len(state["test"]["points"]) == 300
        assert state["output"]["shape"] == [100, 100] and state["output"]["dtype"] == "float32"
        assert [n["shape"] for n in state["neurons"]] == [[2, 25, 25], [4, 25, 25], [1, 25, 25]]
        for step in (1, 2):
            ws.send({"action": "step"})
            update = ws.receive()
            assert update["type"] == "update" and update["epoch"] == step
            assert update["trainLoss"] > 0 and update["testLoss"] > 0
            assert len(update["weights"][0]) == 4 and len(update["weights"][0][0]) == 2


def test_play_streams_updates_and_pause_stops_them(client):
    with open_tab(client, "/ws") as ws:
        ws.receive()
        ws.send({"action": "play"})
        assert ws.receive() == {"type": "playing", "playing": True}
        epochs = [ws.receive()["epoch"] for _ in range(4)]
        assert epochs == sorted(epochs) and epochs[-1] >= 4
        ws.send({"action": "pause"})
        paused, updates = ws.receive_until("playing")
        assert paused["playing"] is False
        last = max([epochs[-1]] + [u["epoch"] for u in updates])
        ws.send({"action": "step"})  # after the pause, nothing trained in between
        assert ws.receive()["epoch"] == last + 1


def test_settings_changes_apply(client):
    with open_tab(client, "/ws") as ws:
        ws.receive()
        ws.send({"action": "step"})
        ws.receive()
        ws.send({"action": "settings", "changes": {"learningRate": "0.3"}})
        changed = ws.receive()  # the network trains on with the new rate
        assert changed["type"] == "settings" and "learningRate=0.3&" in changed["query"]
        ws.send({"action": "step"})
        assert ws.receive()["epoch"] == 2
        ws.send({"action": "settings", "changes": {"networkShape": "3,3,3", "sinX": True}})
        state = ws.receive()  # a new network: the state again, from epoch 0
        assert state["type"] == "state" and state["layers"] == [3, 3, 3, 3, 1]
        assert state["epoch"] == 0 and state["settings"]["learningRate"] == "0.3"
        assert state["features"] == ["x1", "x2", "sin(x1)"]
        ws.send({"action": "settings", "query": "dataset=spiral&classes=3"})
        state = ws.receive()
        assert state["classes"] == 3 and state["output"]["shape"] == [3, 100, 100]
        ws.send({"action": "regenerate"})
        assert ws.receive()["settings"]["seed"] == "1"
        ws.send({"action": "reset"})
        assert ws.receive()["type"] == "state"


def test_bad_messages_get_an_error_and_the_tab_goes_on(client):
    with open_tab(client, "/ws") as ws:
        ws.receive()
        for bad, named in [
            ("not json", "Expecting value"),
            ('{"action": "fly"}', "action"),
            ("[1, 2]", "action"),
            ('{"action": "settings", "changes": {"learningRate": "1e9"}}', "learningRate"),
            ('{"action": "settings", "changes": {"networkShape": "-1"}}', "networkShape"),
            (
                json.dumps(
                    {"action": "settings", "changes": {"networkShape": ",".join(["4"] * 100)}}
                ),
                "at most 6 hidden layers",
            ),
            ('{"action": "settings", "changes": [1]}', "changes"),
            ('{"action": "settings", "query": "noise=500"}', "noise"),
        ]:
            ws.send_text(bad)
            error = ws.receive()
            assert error["type"] == "error" and named in error["message"], bad
        ws.send_bytes(b"\x00\x01")
        assert "expected a text message" in ws.receive()["message"]
        ws.send_text("x" * 100_000)
        assert "expected a shorter message" in ws.receive()["message"]
        ws.send({"action": "step"})
        update = ws.receive()
        assert update["type"] == "update" and update["epoch"] == 1


def test_an_internal_error_stays_in_its_tab(client):
    def broken():
        raise RuntimeError("a bug")

    with open_tab(client, "/ws") as bad, open_tab(client, "/ws") as good:
        session = bad.receive()["session"]
        good.receive()
        client.app.state.connections[session].session.train_epoch = broken
        for action in ("step", "play"):
            bad.send({"action": action})
            message, _ = bad.receive_until("error")
            assert "internal error" in message["message"] and "a bug" in message["message"]
            assert message["playing"] is False  # the page's play button shows it stopped
        good.send({"action": "step"})
        assert good.receive()["epoch"] == 1
        bad.send({"action": "reset"})  # the broken tab still answers
        assert bad.receive()["type"] == "state"


def test_an_error_while_handling_any_message_is_reported_in_its_tab(client, monkeypatch, caplog):
    """Building the session, the first state, a backprop request, an upload, an export:
    whatever fails inside the server comes to the tab as an "internal error" message and is
    logged; the socket stays open unless the tab has no network at all."""
    from glassnet.playground.session import TrainingSession

    def broken(*args):
        raise RuntimeError("Can't call numpy() on Tensor that requires grad")

    monkeypatch.setattr(TrainingSession, "reset", broken)
    with open_tab(client, "/ws") as ws:  # no network could be built: say why, then close
        message = ws.receive()
        assert "internal error" in message["message"] and "numpy()" in message["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert closed.value.code == 1011
    monkeypatch.undo()
    monkeypatch.setattr(TrainingSession, "output_map", broken)
    with open_tab(client, "/ws") as ws:
        message, _ = ws.receive_until("error")  # the tab's first state could not be drawn
        assert "internal error" in message["message"] and "numpy()" in message["message"]
        assert message["playing"] is False
        monkeypatch.undo()
        ws.send({"action": "reset"})
        state = ws.receive()
        assert state["type"] == "state"
        session = session_of(client, state)
        for name, action in [
            ("backprop", {"action": "backprop", "index": 0}),
            ("load_upload", None),
            ("export_zip", None),
        ]:
            monkeypatch.setattr(session, name, broken)
            if name == "load_upload":
                answer = client.post(f"/api/upload/{state['session']}", content=csv_text().encode())
                assert answer.status_code == 500 and "numpy()" in answer.json()["error"]
            elif name == "export_zip":
                assert client.get(f"/api/export/{state['session']}").status_code == 500
            else:
                ws.send(action)
            message, _ = ws.receive_until("error")
            assert "internal error" in message["message"] and "numpy()" in message["message"]
            monkeypatch.undo()
        ws.send({"action": "step"})
        assert ws.receive()["epoch"] == 1
    assert [r.levelname for r in caplog.records].count("ERROR") == 5


def test_json_nested_too_deeply_is_bad_input_not_a_bug(client, caplog):
    with open_tab(client, "/ws") as ws:
        ws.receive()
        for text in ("[" * 60_000, '{"action": ' * 5_000 + '"play"' + "}" * 5_000):
            ws.send_text(text)
            error = ws.receive()
            assert error["type"] == "error" and "nested too deeply" in error["message"]
            assert "playing" not in error  # bad input: the tab plays on if it was playing
        ws.send({"action": "step"})
        assert ws.receive()["epoch"] == 1
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_bad_link_falls_back_to_the_defaults_and_says_why(client):
    with open_tab(client, "/ws?learningRate=1e9") as ws:
        state = ws.receive()
        assert state["settings"]["learningRate"] == "0.03"
        error = ws.receive()
        assert error["type"] == "error" and "learningRate" in error["message"]


def test_divergence_pauses_and_no_nan_reaches_the_page(client):
    with open_tab(client, "/ws?dataset=plane&activation=sigmoid&learningRate=10") as ws:
        ws.receive()
        ws.send({"action": "play"})
        diverged, before = ws.receive_until("diverged")  # receive() refuses NaN and Infinity
        assert "learning rate (10)" in diverged["message"]
        update = before[-1]
        assert update["type"] == "update" and update["playing"] is False and update["epoch"] == 0
        assert math.isfinite(update["trainLoss"])
        ws.send({"action": "settings", "changes": {"learningRate": "0.01"}})
        ws.receive()
        ws.send({"action": "step"})
        assert ws.receive()["epoch"] == 1


def test_the_trained_network_downloads_as_a_zip(client):
    with open_tab(client, "/ws") as ws:
        session = ws.receive()["session"]
        response = client.get(f"/api/export/{session}")
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert "playground_model/playground_model.py" in names
    assert client.get(f"/api/export/{session}").status_code == 404  # the tab has closed
    assert client.get("/api/export/guess").status_code == 404


def test_other_sites_cannot_open_a_session(client):
    for origin in ("http://evil.example", "http://testserver:8080", "null"):
        with pytest.raises(WebSocketDisconnect) as refused:
            with open_tab(client, "/ws", headers={"origin": origin}) as ws:
                ws.receive()
        assert refused.value.code == 1008, origin
    # the page's own origin (the test client's host is "testserver") is welcome
    with open_tab(client, "/ws", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive()["type"] == "state"


def test_the_number_of_tabs_is_bounded():
    with TestClient(create_app(max_sessions=1)) as c:
        with open_tab(c, "/ws") as first:
            first.receive()
            with open_tab(c, "/ws") as second:
                busy = second.receive()
                assert busy["type"] == "error" and "busy" in busy["message"]
                with pytest.raises(WebSocketDisconnect) as closed:
                    second.receive()
                assert closed.value.code == 1013
        with open_tab(c, "/ws") as again:  # a tab closed: room again
            assert again.receive()["type"] == "state"


def test_update_rate_for_a_6x8_network(client, capsys):
    """Counts the updates a 6 x 8 network on 500 points pushes in about 2 s. Printed, not
    asserted: the rate depends on the machine and on what else runs on it."""
    query = "dataset=circle&networkShape=8,8,8,8,8,8&batchSize=10"
    with open_tab(client, f"/ws?{query}") as ws:
        state = ws.receive()
        assert len(state["train"]["points"]) + len(state["test"]["points"]) == 500
        ws.send({"action": "play"})
        ws.receive()
        ws.receive()  # the first update: from here on, count
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < 2.0:
            count += ws.receive()["type"] == "update"
        elapsed = time.perf_counter() - start
        ws.send({"action": "pause"})
        ws.receive_until("playing")
    with capsys.disabled():
        print(f"\nplayground: {count / elapsed:.1f} updates/s for a 6x8 network on 500 points")
    assert count > 0


def test_the_command_line_knows_the_playground():
    args = build_parser().parse_args(["playground", "--port", "0", "--no-browser"])
    assert (args.host, args.port, args.no_browser) == ("127.0.0.1", 0, True)
    assert build_parser().parse_args(["playground"]).port == 8765


@pytest.mark.timeout(30)  # were the import to succeed, the server would run until stopped
def test_missing_extras_give_the_pip_command(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "glassnet.playground.app")
    for name in [m for m in sys.modules if m.split(".")[0] == "starlette"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if Starlette were not installed
    assert main(["playground", "--no-browser"]) == 2
    assert "pip install 'glassnet[playground]'" in capsys.readouterr().err


def test_the_server_listens_on_loopback_unless_told_otherwise(monkeypatch, capsys):
    from glassnet.playground import app as app_module

    for function in (app_module.serve, app_module.make_server):
        assert inspect.signature(function).parameters["host"].default == "127.0.0.1"
    server, sock, url = app_module.make_server(port=0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1" and url.startswith("http://127.0.0.1:")
    finally:
        sock.close()

    # `glassnet playground --host H`: where it would listen, and whether it warns (nothing is
    # bound: make_server is replaced by one that records the host, and the server stops at once)
    hosts = []

    class Stopped:
        def run(self, sockets):
            pass

    def fake_make_server(host="127.0.0.1", port=0):
        hosts.append(host)
        return Stopped(), None, f"http://{host}:{port}/"

    monkeypatch.setattr(app_module, "make_server", fake_make_server)
    warning = "other machines that can reach this one can use it too"
    for args, host, warns in [
        ([], "127.0.0.1", False),
        (["--host", "localhost"], "localhost", False),
        (["--host", "::1"], "::1", False),
        (["--host", "0.0.0.0"], "0.0.0.0", True),
        (["--host", "::"], "::", True),
    ]:
        assert main(["playground", "--no-browser", "--port", "0", *args]) == 0
        assert hosts[-1] == host
        out = capsys.readouterr().out
        assert (warning in out) == warns, (host, out)


def test_glassnet_playground_serves_on_loopback():
    process = subprocess.Popen(
        [sys.executable, "-m", "glassnet.cli", "playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("glassnet playground: http://127.0.0.1:"), line
        url = line.split()[2]
        for _ in range(50):  # the URL is printed just before the server starts
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert b'id="play"' in response.read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"nothing answered at {url}")
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- the backprop view, weight editing, uploads, small batches ----------------------------------


def session_of(client, ws_state: dict):
    return client.app.state.connections[ws_state["session"]].session


def test_the_backprop_view_over_the_websocket(client):
    with open_tab(client, "/ws?dataset=xor&networkShape=3,2&activation=tanh") as ws:
        state = ws.receive()
        session = session_of(client, state)
        ws.send({"action": "backprop", "index": 4})
        message = ws.receive()
        assert message["type"] == "backprop" and message["index"] == 4
        assert message["count"] == len(state["train"]["points"])
        assert message["lossName"] == "binary cross-entropy" and message["learningRate"] == 0.03
        assert message["target"] == state["train"]["labels"][4]
        assert [len(v) for v in message["pre"]] == [3, 2, 1]
        assert [len(v) for v in message["post"]] == [3, 2, 1]
        assert [len(v) for v in message["postGrads"]] == [3, 2]
        assert [np.shape(g) for g in message["weightGrads"]] == [(3, 2), (2, 3), (1, 2)]
        assert [len(g) for g in message["biasGrads"]] == [3, 2, 1]
        # the numbers are glassnet's own for that example
        expected = session.backprop(4)
        for key, name in [("weightGrads", "weight_grads"), ("preGrads", "pre_grads")]:
            for got, want in zip(message[key], expected[name]):
                np.testing.assert_allclose(got, want, rtol=1e-6)
        assert message["loss"] == pytest.approx(expected["loss"])
        # an example picked by where the page was clicked
        x1, x2 = state["train"]["points"][9]
        ws.send({"action": "backprop", "at": [x1 + 0.001, x2]})
        assert ws.receive()["index"] == 9
        # one SGD step with it: the weights, then the example's numbers again
        ws.send({"action": "backprop_apply", "index": 9})
        update = ws.receive()
        assert update["type"] == "update" and update["epoch"] == 0
        after = ws.receive()
        assert after["type"] == "backprop" and after["index"] == 9
        for bad, named in [
            (
                {"action": "backprop", "index": 10_000},
                "example (a training point) must be an integer",
            ),
            ({"action": "backprop", "index": "3"}, "give the example's index"),
            ({"action": "backprop", "at": [1]}, "at should be a point"),
            ({"action": "backprop_apply"}, "give the example's index"),
        ]:
            ws.send(bad)
            error = ws.receive()
            assert error["type"] == "error" and named in error["message"], bad


def test_applying_an_example_lowers_its_loss(client):
    with open_tab(client, "/ws?dataset=circle&learningRate=0.3") as ws:
        ws.receive()
        ws.send({"action": "backprop", "index": 0})
        before = ws.receive()["loss"]
        ws.send({"action": "backprop_apply", "index": 0})
        ws.receive()
        assert ws.receive()["loss"] < before


def test_a_weight_typed_in_is_applied_and_the_heatmaps_refresh(client):
    with open_tab(client, "/ws?networkShape=3") as ws:
        state = ws.receive()
        ws.send({"action": "edit", "layer": 1, "neuron": 0, "input": 2, "value": "-3.5"})
        update = ws.receive()
        assert update["type"] == "update" and update["weights"][1][0][2] == -3.5
        assert update["output"] != state["output"] and update["epoch"] == 0
        ws.send({"action": "edit", "layer": 0, "neuron": 1, "input": None, "value": 0.25})
        assert ws.receive()["biases"][0][1] == 0.25
        for bad, named in [
            ({"value": "abc"}, "weight: should be a finite number from -100 to 100; got 'abc'"),
            ({"value": "NaN"}, "finite number"),
            ({"value": "1e400"}, "finite number"),
            ({"value": 1000}, "from -100 to 100"),
            ({"layer": 5}, "weight: layer must be an integer from 0 to 1"),
            ({"input": 7}, "weight: input must be an integer from 0 to 1"),
        ]:
            message = {"action": "edit", "layer": 0, "neuron": 0, "input": 0, "value": 1.0}
            ws.send({**message, **bad})
            error = ws.receive()
            assert error["type"] == "error" and named in error["message"], bad
        ws.send({"action": "step"})  # the tab trains on from the edited weights
        assert ws.receive()["epoch"] == 1


def csv_text(n: int = 40, classes: int = 2) -> str:
    points = np.random.default_rng(3).uniform(-5, 5, (n, 2))
    lines = [f"{x:.3f},{y:.3f},{i % classes}" for i, (x, y) in enumerate(points)]
    return "x1,x2,label\n" + "\n".join(lines) + "\n"


def test_an_uploaded_csv_becomes_the_tabs_data(client):
    with open_tab(client, "/ws?percTrainData=50") as ws:
        session = ws.receive()["session"]
        response = client.post(
            f"/api/upload/{session}?name=mine.csv",
            content=csv_text(40, classes=3).encode(),
            headers={"origin": "http://testserver"},  # the page's own origin is welcome
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["rows"] == 40 and answer["train"] == 20 and answer["classes"] == 3
        assert answer["problem"] == "classification" and "dataset=csv" in answer["query"]
        state = ws.receive()  # the tab's new state arrives over its socket
        assert state["type"] == "state" and state["settings"]["dataset"] == "csv"
        assert state["classes"] == 3 and state["layers"][-1] == 3
        assert len(state["train"]["points"]) == 20 and len(state["test"]["points"]) == 20
        assert state["upload"] == {"name": "mine.csv", "rows": 40, "problem": "classification"}
        uploaded = ws.receive()  # and then what the answer said, for the page to show
        assert uploaded == {"type": "uploaded", **answer}
        ws.send({"action": "step"})
        assert ws.receive()["epoch"] == 1
        # regression: the problem follows the file's labels
        values = "\n".join(f"{i / 10},{-i / 10},{i / 50}" for i in range(30))
        answer = client.post(f"/api/upload/{session}", content=values.encode()).json()
        assert answer["problem"] == "regression" and answer["classes"] is None
        state = ws.receive()
        assert state["problem"] == "regression" and state["layers"][-1] == 1
        assert ws.receive()["type"] == "uploaded"
        # a built-in dataset and back
        ws.send({"action": "settings", "changes": {"dataset": "circle"}})
        assert ws.receive()["settings"]["dataset"] == "circle"
        ws.send({"action": "settings", "changes": {"dataset": "csv"}})
        state = ws.receive()
        assert state["problem"] == "regression" and len(state["train"]["points"]) == 15


def test_bad_uploads_get_a_clear_4xx_and_the_tab_goes_on(client):
    with open_tab(client, "/ws") as ws:
        session = ws.receive()["session"]
        url = f"/api/upload/{session}"
        good = csv_text(20).splitlines()
        for body, status, named in [
            ("\n".join(good[:5] + ["1.5,oops,1"] + good[5:]), 400, "row 6, column 2 (x2)"),
            ("\n".join(good[:6]), 400, "only 5 rows of data"),
            (csv_text(40, classes=7), 400, "more than 5 classes"),
            ("0,0,1\n" * 5001, 400, "more than 5,000 rows"),
        ]:
            response = client.post(url, content=body.encode())
            assert response.status_code == status and named in response.json()["error"], named
        # 50 MB: refused from its Content-Length, before it is read
        big = client.post(url, content=b"0,0,1\n" * (50 * 1024 * 1024 // 6))
        assert big.status_code == 413 and "the file is 50.0 MB" in big.json()["error"]

        # no Content-Length (sent in chunks): read up to the limit, then refused
        def chunks():
            for _ in range(40):
                yield b"0,0,1\n" * 10_000

        chunked = client.post(url, content=chunks())
        assert chunked.status_code == 413 and "larger than 1 MB" in chunked.json()["error"]
        assert client.post(f"{url}?kind=guess", content=b"1,2,3").status_code == 400
        # another web site's page cannot give a tab its data (as it cannot open a socket)
        for origin in ("http://evil.example", "null"):
            foreign = client.post(url, content=csv_text().encode(), headers={"origin": origin})
            assert foreign.status_code == 403 and "cross-origin" in foreign.json()["error"]
        assert client.post("/api/upload/guess", content=csv_text().encode()).status_code == 404
        assert client.get(url).status_code == 405
        ws.send({"action": "step"})  # nothing changed the tab
        update = ws.receive()
        assert update["type"] == "update" and update["epoch"] == 1


def test_a_link_to_uploaded_data_falls_back_and_says_why(client):
    with open_tab(client, "/ws?dataset=csv") as ws:
        state = ws.receive()
        assert state["settings"]["dataset"] == "circle"
        error = ws.receive()
        assert error["type"] == "error" and "upload the file again" in error["message"]
        ws.send({"action": "settings", "changes": {"dataset": "csv"}})
        error = ws.receive()
        assert error["type"] == "error" and "this tab has none" in error["message"]


def test_updates_keep_flowing_with_batch_size_1(client, capsys):
    """Batch size 1 means 250 optimizer steps per epoch: the page gets an update every
    STEPS_PER_UPDATE of them, with the epoch's progress, instead of waiting for the whole pass."""
    from glassnet.playground.session import STEPS_PER_UPDATE

    with open_tab(client, "/ws?dataset=circle&batchSize=1") as ws:
        ws.receive()
        ws.send({"action": "play"})
        ws.receive()
        first = ws.receive()
        assert first["epoch"] == 0 and first["progress"] == STEPS_PER_UPDATE / 250
        count, start, epochs = 0, time.perf_counter(), []
        while time.perf_counter() - start < 1.5:
            message = ws.receive()
            if message["type"] == "update":
                count += 1
                epochs.append(message["epoch"])
        elapsed = time.perf_counter() - start
        ws.send({"action": "pause"})
        ws.receive_until("playing")
    assert epochs == sorted(epochs) and count >= 5  # several updates within each epoch
    assert len(epochs) > len(set(epochs))
    with capsys.disabled():
        print(f"\nplayground: {count / elapsed:.1f} updates/s with batch size 1")


def test_a_loopback_server_refuses_requests_for_other_host_names():
    """DNS rebinding: a page elsewhere can point its own name at 127.0.0.1; the Host header then
    carries that name, and a loopback-bound playground refuses it (HTTP 400, WebSocket closed)."""
    from starlette.testclient import TestClient

    from glassnet.playground.app import LoopbackHostsOnly, create_app

    app = LoopbackHostsOnly(create_app())
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        assert client.get("/").status_code == 200
    with TestClient(app, base_url="http://localhost:8765") as client:
        assert client.get("/").status_code == 200
    with TestClient(app, base_url="http://rebound.example:8765") as client:
        refused = client.get("/")
        assert refused.status_code == 400 and "127.0.0.1" in refused.text
        with pytest.raises(Exception), open_tab(client, "/ws") as ws:
            ws.receive_json()
