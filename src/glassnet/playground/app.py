"""The playground's web server: an ASGI app (Starlette) that trains one network per browser tab.

The page (static/) opens a WebSocket; the server makes a `TrainingSession` for it and, while the
page says "play", trains one epoch at a time (or `STEPS_PER_UPDATE` mini-batches of it, when the
batch size is small) and pushes what changed (losses, output heatmap, neuron heatmaps, weights) as
one JSON message per update, up to `MAX_UPDATES_PER_SECOND`. The page sends actions back (play,
pause, step, reset, regenerate, settings; backprop and backprop_apply for the backprop view; edit
for a weight or bias typed in). Settings arrive as URL parameters and go through the same
validation as a link's query string. Arrays travel base64 encoded (float32, or int8 for the neuron
heatmaps, which are drawn on the scale -1 to 1 anyway). One's own data arrives as a CSV file
posted to /api/upload/SESSION. Bad input gets an error message saying what is wrong; any other
exception while handling a tab's message is logged and reported to that tab as an internal
error, which stops its training; the other tabs never notice.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
import webbrowser
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

try:
    from starlette.applications import Starlette
    from starlette.requests import HTTPConnection, Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketDisconnect
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the glassnet playground needs Starlette and uvicorn: pip install 'glassnet[playground]'"
    ) from error

from .session import SessionError, TrainingSession
from .settings import (
    FEATURES,
    UPLOADED,
    Settings,
    SettingsError,
    format_query,
    parse_query,
    settings_from_params,
    to_params,
)
from .upload import MAX_UPLOAD_BYTES, UPLOAD_KINDS, UploadError, parse_csv, too_large

log = logging.getLogger("glassnet.playground")

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 16
"""Tabs served at once; one more is turned away with a message until another closes."""
MAX_UPDATES_PER_SECOND = 60.0
"""One epoch per update, at most this often: TensorFlow Playground's one epoch per frame."""
MAX_MESSAGE_BYTES = 64 * 1024
"""The largest message a page may send (settings and actions are a few hundred bytes)."""
ACTIONS = (
    "play",
    "pause",
    "step",
    "reset",
    "regenerate",
    "settings",
    "backprop",
    "backprop_apply",
    "edit",
)


def encode_array(array: np.ndarray, dtype: str = "float32") -> dict[str, Any]:
    """An array as JSON: its shape, dtype ("float32" or "int8") and little-endian bytes in base64.
    int8 stores values in [-1, 1] as round(127 * value), clipped."""
    if dtype == "int8":
        data = np.round(np.clip(array, -1.0, 1.0) * 127.0).astype(np.int8)
    else:
        data = np.asarray(array, dtype="<f4")
    return {
        "shape": list(array.shape),
        "dtype": dtype,
        "data": base64.b64encode(np.ascontiguousarray(data).tobytes()).decode("ascii"),
    }


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def update_message(session: TrainingSession, playing: bool) -> dict[str, Any]:
    """The message sent after an epoch (or part of one): losses, heatmaps and weights."""
    snap = session.snapshot()
    return {
        "type": "update",
        "epoch": snap["epoch"],
        "progress": session.progress,
        "trainLoss": _finite(snap["train_loss"]),
        "testLoss": _finite(snap["test_loss"]),
        "output": encode_array(snap["output"]),
        "neurons": [encode_array(m, "int8") for m in snap["neurons"]],
        "weights": [w.tolist() for w in snap["weights"]],
        "biases": [b.tolist() for b in snap["biases"]],
        "playing": playing,
    }


def state_message(session: TrainingSession, session_id: str, playing: bool) -> dict[str, Any]:
    """Everything the page needs after a (re)start: the settings, the data, the network's shape,
    the loss history, and the first update."""
    s = session.settings

    def points(xy: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
        return {"points": np.round(xy, 4).tolist(), "labels": np.round(labels, 4).tolist()}

    return {
        **update_message(session, playing),
        "type": "state",
        "session": session_id,
        "query": session.query,
        "settings": to_params(s),
        "problem": "regression" if session.regression else "classification",
        "upload": None
        if session.upload is None
        else {
            "name": session.upload.name,
            "rows": session.upload.rows,
            "problem": "regression" if session.upload.regression else "classification",
        },
        "classes": s.classes,
        "layers": [len(s.features), *s.hidden, session.outputs],
        "features": [FEATURES[name] for name in s.features],
        "train": points(session.train_points, session.train_labels),
        "test": points(session.test_points, session.test_labels),
        "history": [[e, _finite(a), _finite(b)] for e, a, b in session.history],
        "diverged": session.diverged,
    }


def _values(array: Any) -> Any:
    """Numbers for JSON: NaN and infinities (possible after wild weight edits) become null."""
    values = np.asarray(array, dtype=np.float64)
    if values.ndim == 0:
        return _finite(float(values))
    return [_values(row) for row in values] if values.ndim > 1 else [_finite(v) for v in values]


def backprop_message(session: TrainingSession, index: int) -> dict[str, Any]:
    """Training example `index` stepped forward and backward (see `TrainingSession.backprop`):
    per Linear layer, input side first, each neuron's weighted sum ("pre") and activation
    ("post"; the output layer's is the prediction), their gradients ("preGrads": the error
    signal dL/dz; "postGrads", hidden layers only) and the gradient of every weight (out, in)
    and bias of this example's loss; the learning rate and optimizer a "backprop_apply" uses."""
    r = session.backprop(index)
    return {
        "type": "backprop",
        "index": r["index"],
        "count": len(session.train_points),
        "point": _values(r["point"]),
        "target": r["target"],
        "inputs": _values(r["inputs"]),
        "pre": [_values(v) for v in r["pre"]],
        "post": [_values(v) for v in r["post"]],
        "preGrads": [_values(v) for v in r["pre_grads"]],
        "postGrads": [_values(v) for v in r["post_grads"]],
        "weightGrads": [_values(v) for v in r["weight_grads"]],
        "biasGrads": [_values(v) for v in r["bias_grads"]],
        "loss": _finite(r["loss"]),
        "lossName": r["loss_name"],
        "learningRate": session.settings.learning_rate,
        "optimizer": session.settings.optimizer,  # what "Apply this update" steps with
    }


def _dumps(message: dict[str, Any]) -> str:
    # allow_nan=False: a NaN reaching the page would be a bug, so it fails loudly here instead.
    return json.dumps(message, allow_nan=False, separators=(",", ":"))


async def _report_bug(websocket: WebSocket, session_id: str, error: Exception) -> None:
    """Log an unexpected error and tell the page, whose play button then shows the stopped
    state; the server and the other tabs go on."""
    log.error("playground session %s: %r", session_id[:6], error, exc_info=error)
    with contextlib.suppress(Exception):
        message = {"type": "error", "message": f"internal error: {error!r}", "playing": False}
        await websocket.send_text(_dumps(message))


def _link_settings(query: str) -> tuple[Settings | None, str | None]:
    """The settings a tab's link asks for (None: the defaults) and, when the link cannot be
    followed as it is, the message that says why."""
    try:
        settings = parse_query(query)
    except SettingsError as bad:
        return None, f"{bad} (the defaults are used instead)"
    if settings.dataset == UPLOADED:
        return settings.replace(dataset="circle", classes=2), (
            "this link's data was uploaded from a CSV file, which a link cannot carry: "
            "upload the file again (circle is shown meanwhile)"
        )
    return settings, None


class Connection:
    """One tab: its session, whether it is playing, and the lock that keeps the training thread,
    the page's actions and the messages in order."""

    def __init__(self, websocket: WebSocket, session: TrainingSession, session_id: str) -> None:
        self.websocket = websocket
        self.session = session
        self.id = session_id
        self.playing = False
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        await self.websocket.send_text(_dumps(message))

    async def run(self, function: Callable[[], Any]) -> Any:
        """Run a session call in a worker thread, so the server keeps answering meanwhile."""
        return await asyncio.to_thread(function)

    async def send_state(self) -> None:
        await self.send(await self.run(lambda: state_message(self.session, self.id, self.playing)))

    async def train_loop(self) -> None:
        """While playing: train an epoch, send the update; never faster than the update cap."""
        interval = 1.0 / MAX_UPDATES_PER_SECOND
        while True:
            await self.wake.wait()
            started = time.perf_counter()
            async with self.lock:
                if not self.playing:
                    self.wake.clear()
                    continue
                try:
                    await self._epoch(whole=False)
                except WebSocketDisconnect:
                    return  # the tab has closed; the socket's handler cleans up
                except Exception as error:  # a bug: stop this tab's training, say so, go on
                    await self.report(error)
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    async def report(self, error: Exception) -> None:
        """Stop training and report an unexpected error (see `_report_bug`)."""
        self.playing = False
        await _report_bug(self.websocket, self.id, error)

    async def guarded(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action`: bad input gets an error message saying why, an internal error is
        reported (see `report`); either way the tab goes on. Only a closed socket gets out."""
        try:
            await action()
        except WebSocketDisconnect:
            raise
        except (SettingsError, SessionError) as error:
            await self.send({"type": "error", "message": str(error)})
        except Exception as bug:  # a bug: this tab says so, the others never notice
            await self.report(bug)

    async def _epoch(self, whole: bool = True) -> None:
        """Train one epoch (or, unless `whole`, one update's share of it) and send the update;
        when training diverged, stop playing and say why."""

        def train() -> dict[str, Any]:
            trained = self.session.train_epoch() if whole else self.session.train_update()
            if not trained:
                self.playing = False
            return update_message(self.session, self.playing)

        message = await asyncio.to_thread(train)
        await self.send(message)
        if self.session.diverged is not None:
            await self.send({"type": "diverged", "message": self.session.diverged})

    async def handle(self, text: str) -> None:
        """Act on one message from the page (see `guarded` for what happens when it fails)."""

        async def act() -> None:
            message = parse_message(text)
            async with self.lock:
                await self._act(message)

        await self.guarded(act)

    async def _act(self, message: dict[str, Any]) -> None:
        action = message["action"]
        if action == "play":
            self.playing = True
            self.wake.set()
            await self.send({"type": "playing", "playing": True})
        elif action == "pause":
            self.playing = False
            await self.send({"type": "playing", "playing": False})
        elif action == "step":
            self.playing = False
            await self._epoch()
        elif action == "reset":
            await self.run(self.session.reset)
            await self.send_state()
        elif action == "regenerate":
            await self.run(self.session.regenerate)
            await self.send_state()
        elif action == "backprop":
            index = _example_of(message, self.session)
            await self.send(await self.run(lambda: backprop_message(self.session, index)))
        elif action == "backprop_apply":
            index = _example_of(message, self.session)
            await self.run(lambda: self.session.apply_example(index))
            await self.send(await self.run(lambda: update_message(self.session, self.playing)))
            await self.send(await self.run(lambda: backprop_message(self.session, index)))
        elif action == "edit":
            layer, neuron = message.get("layer"), message.get("neuron")
            source, value = message.get("input"), message.get("value")
            await self.run(lambda: self.session.set_parameter(layer, neuron, source, value))
            await self.send(await self.run(lambda: update_message(self.session, self.playing)))
        else:
            settings = _settings_of(message, self.session)
            redone = await self.run(lambda: self.session.apply(settings))
            if redone in ("data", "network"):
                await self.send_state()
            else:
                await self.send(
                    {
                        "type": "settings",
                        "query": self.session.query,
                        "settings": to_params(self.session.settings),
                    }
                )


def parse_message(text: str) -> dict[str, Any]:
    """A message from the page: a JSON object with one of the `ACTIONS`. Raises `SettingsError`
    for anything else, JSON nested too deeply to parse included (a recursion error inside the
    parser is bad input, not a bug)."""
    try:
        message = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(f"a message should be JSON: {error}") from None
    except RecursionError:
        raise SettingsError(
            "a message should be a small JSON object; this one is nested too deeply to read"
        ) from None
    if not isinstance(message, dict) or message.get("action") not in ACTIONS:
        raise SettingsError(
            f"a message should be a JSON object with an action, one of "
            f"{', '.join(ACTIONS)}; got {text[:200]!r}"
        )
    return message


def _example_of(message: dict[str, Any], session: TrainingSession) -> int:
    """The training example a backprop message asks for: its "index", or the one nearest to the
    point "at" [x1, x2] (where the page was clicked)."""
    if "at" in message:
        at = message["at"]
        if not (
            isinstance(at, list)
            and len(at) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in at)
        ):
            raise SessionError(f"backprop: at should be a point [x1, x2]; got {at!r}")
        return session.nearest_example(*at)
    index = message.get("index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise SessionError(
            f"backprop: give the example's index (0 to {len(session.train_points) - 1}) or a "
            f"point at [x1, x2]; got {index!r}"
        )
    return index


def _settings_of(message: dict[str, Any], session: TrainingSession):
    """The settings a "settings" message asks for: a whole "query", or "changes" to some URL
    parameters (strings) of the current settings."""
    if "query" in message:
        if not isinstance(message["query"], str):
            raise SettingsError("settings: query should be a string")
        return parse_query(message["query"])
    changes = message.get("changes")
    if not isinstance(changes, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in changes.items()
    ):
        raise SettingsError("settings: changes should be an object of URL parameters and values")
    text = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in changes.items()}
    return settings_from_params(text, session.settings)


def _same_origin(request: HTTPConnection) -> bool:
    """Whether the page that opened the socket (or sent the request) came from this server, or
    from no browser page at all: another web site open in the browser must not drive a
    playground on this machine."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host")


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


class LoopbackHostsOnly:
    """ASGI middleware that answers only requests addressed to a loopback name.

    A server bound to 127.0.0.1 cannot be reached from other machines, but a web page elsewhere
    can point a name of its own at 127.0.0.1 ("DNS rebinding") and then talk to it as if it
    were the same site. Such requests carry that other name in their Host header: refuse them.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # the wrapped app's .state and the like
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or [])
            host = headers.get(b"host", b"").decode("latin-1")
            if urlsplit(f"//{host}").hostname not in LOOPBACK_NAMES:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = b"this playground answers only on 127.0.0.1 / localhost"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"text/plain"),
                            (b"content-length", b"%d" % len(body)),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def create_app(max_sessions: int = MAX_SESSIONS) -> Starlette:
    """The playground as an ASGI app: the page at /, its files under /static, one WebSocket per
    tab at /ws (the settings in its query string), /api/settings to check a query string,
    /api/export/SESSION to download a tab's trained network and /api/upload/SESSION to give a
    tab one's own data (a CSV file as the body of a POST)."""
    connections: dict[str, Connection | None] = {}

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def check_settings(request: Request) -> Response:
        try:
            settings = parse_query(request.url.query)
        except SettingsError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"settings": to_params(settings), "query": format_query(settings)})

    async def export(request: Request) -> Response:
        connection = connections.get(request.path_params["session"])
        if connection is None:
            return JSONResponse({"error": "no such session (is its tab still open?)"}, 404)
        try:
            async with connection.lock:
                data = await connection.run(connection.session.export_zip)
        except Exception as bug:  # the tab hears of it too, like any other internal error
            await connection.report(bug)
            return JSONResponse({"error": f"internal error: {bug!r}"}, 500)
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="playground_model.zip"'},
        )

    async def upload(request: Request) -> Response:
        """A CSV file (the request's body, at most 1 MB) becomes the tab's data: the tab gets its
        new state over its WebSocket, the answer says what was read (or, 4xx, what is wrong)."""

        def refuse(message: str, status: int = 400) -> Response:
            return JSONResponse({"error": message}, status_code=status)

        if not _same_origin(request):
            return refuse("cross-origin upload refused", 403)
        connection = connections.get(request.path_params["session"])
        if connection is None:
            return refuse("no such session (is its tab still open?)", 404)
        kind = request.query_params.get("kind", "auto")
        if kind not in UPLOAD_KINDS:
            return refuse(f"kind: should be one of {', '.join(UPLOAD_KINDS)}; got {kind[:40]!r}")
        name = request.query_params.get("name", "data.csv")[:100]
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_UPLOAD_BYTES:
            return refuse(too_large(int(length)), 413)
        body = bytearray()
        async for chunk in request.stream():  # never more than the limit in memory
            body += chunk
            if len(body) > MAX_UPLOAD_BYTES:
                return refuse(too_large(None), 413)
        try:
            data = await asyncio.to_thread(parse_csv, bytes(body), kind, name)
        except UploadError as error:
            return refuse(f"{name}: {error}")
        try:
            async with connection.lock:
                await connection.run(lambda: connection.session.load_upload(data))
                session = connection.session
                summary = {
                    "name": data.name,
                    "rows": data.rows,
                    "train": len(session.train_points),
                    "problem": "regression" if data.regression else "classification",
                    "classes": None if data.regression else data.classes,
                    "notes": list(data.notes),
                    "query": session.query,
                }
                await connection.send_state()
                # after the state, on the same socket: the page shows it once the data is in
                await connection.send({"type": "uploaded", **summary})
        except WebSocketDisconnect:
            return refuse("the tab closed while its data was loading", 404)
        except Exception as bug:  # the tab hears of it too, like any other internal error
            await connection.report(bug)
            return refuse(f"internal error: {bug!r}", 500)
        return JSONResponse(summary)

    async def socket(websocket: WebSocket) -> None:
        if not _same_origin(websocket):
            await websocket.close(code=1008, reason="cross-origin connection refused")
            return
        await websocket.accept()
        if len(connections) >= max_sessions:
            await websocket.send_text(
                _dumps(
                    {
                        "type": "error",
                        "message": f"the server is busy: {max_sessions} tabs "
                        "are open already; close one and reload",
                    }
                )
            )
            await websocket.close(code=1013)
            return
        session_id = secrets.token_urlsafe(16)
        connections[session_id] = None  # the place is taken while the session is built
        trainer = None
        try:
            settings, error = _link_settings(websocket.url.query)
            try:
                session = await asyncio.to_thread(TrainingSession, settings)
            except Exception as bug:  # no network to show: say why and close
                await _report_bug(websocket, session_id, bug)
                await websocket.close(code=1011)
                return
            connection = connections[session_id] = Connection(websocket, session, session_id)
            trainer = asyncio.create_task(connection.train_loop())

            async def first_state() -> None:
                async with connection.lock:
                    await connection.send_state()

            await connection.guarded(first_state)
            if error:
                await connection.send({"type": "error", "message": error})
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None or len(text) > MAX_MESSAGE_BYTES:
                    problem = "a text message" if text is None else "a shorter message"
                    await connection.send({"type": "error", "message": f"expected {problem}"})
                    continue
                await connection.handle(text)
        except WebSocketDisconnect:
            pass
        finally:
            if trainer is not None:
                trainer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await trainer
            connections.pop(session_id, None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The playground's matrices are tiny: one BLAS thread per product is fastest, and a
        # second one only waits for a busy core (60 ms instead of 2 ms per heatmap, measured).
        limits = _single_blas_thread()
        try:
            yield
        finally:
            if limits is not None:
                limits.restore_original_limits()

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/settings", check_settings),
            Route("/api/export/{session}", export),
            Route("/api/upload/{session}", upload, methods=["POST"]),
            WebSocketRoute("/ws", socket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.connections = connections
    return app


def _single_blas_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with the playground extra
        return None
    return threadpool_limits(limits=1, user_api="blas")


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            "the glassnet playground needs uvicorn: pip install 'glassnet[playground]'"
        ) from error
    return uvicorn


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(
            socket.gethostbyname(host) if ":" not in host else host
        ).is_loopback
    except (OSError, ValueError):
        return False


def make_server(host: str = "127.0.0.1", port: int = 0) -> tuple[Any, socket.socket, str]:
    """A uvicorn server for the playground, its listening socket (bound already, so port 0 has
    become a free port) and the page's URL. Run it with ``server.run(sockets=[sock])``."""
    uvicorn = _uvicorn()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    app: Any = create_app()
    if _is_loopback(host):
        app = LoopbackHostsOnly(app)
    config = uvicorn.Config(
        app,
        log_level="warning",
        ws_max_size=MAX_MESSAGE_BYTES,
        ws_per_message_deflate=False,  # compressing 100 kB per update costs more than it saves
    )
    name = f"[{host}]" if family == socket.AF_INET6 else host
    return uvicorn.Server(config), sock, f"http://{name}:{bound}/"


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True) -> int:
    """Run the playground until Ctrl-C: print its URL and open it in the browser."""
    server, sock, url = make_server(host, port)
    print(f"glassnet playground: {url}  (Ctrl-C stops it)", flush=True)
    if not _is_loopback(host):
        print(
            f"glassnet playground: listening on {host}: other machines that can reach this one "
            "can use it too",
            flush=True,
        )
    if open_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    server.run(sockets=[sock])
    return 0
