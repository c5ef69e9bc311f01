"""The playground in real headless Chromium (Debian's package, driven by Playwright): press play,
watch the epochs count and the test loss fall (circle, and xor with the x1·x2 feature), change the
dataset through the page, reload the page from its own URL, step an example forward and backward
in the backprop view (the numbers are glassnet's own), edit a weight, upload a CSV file, and
export the network through the page (the downloaded script predicts what the tab predicts).
Skipped where Chromium or Playwright is missing; `.ci/run` installs Chromium, so CI always runs
it. The README's screenshots (docs/playground*.png) are made here, and written only by a test
that passed."""

import contextlib
import os
import re
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)", allow_module_level=True
    )
pytest.importorskip("playwright", reason="Playwright for Python is not installed")
pytest.importorskip("uvicorn", reason="the playground extra is not installed")

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from glassnet.playground.app import make_server  # noqa: E402
from glassnet.playground.session import TrainingSession  # noqa: E402
from glassnet.playground.settings import parse_query  # noqa: E402
from test_playground_session import check_exported_script  # noqa: E402

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


DOCS = Path(__file__).resolve().parent.parent / "docs"
"""Where the README's screenshots live."""


def save_screenshot(name: str, png: bytes) -> Path | None:
    """Put a screenshot the README shows into docs/: written to a temporary name there first and
    then renamed over the old one, so a reader never finds half a picture. A test calls this last,
    once its assertions have passed; nothing is written where docs/ is missing (an installed
    copy of the tests)."""
    if not DOCS.is_dir():
        return None
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=DOCS)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(png)
        os.chmod(temp, 0o644)
        os.replace(temp, DOCS / name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return DOCS / name


@pytest.fixture(scope="module")
def served():
    """The playground's uvicorn server, in a thread, and its URL."""
    server, sock, address = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the playground server did not start"
        time.sleep(0.02)
    yield server, address
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def url(served):
    return served[1]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def wait_until(page, expression: str, what: str | None = None, seconds: float = 30) -> Any:
    """Wait until the JavaScript `expression` is true in `page` and return its value; after
    `seconds`, fail saying what was waited for (Playwright's own timeout error does not name
    the condition)."""
    try:
        return page.wait_for_function(expression, timeout=seconds * 1000).json_value()
    except PlaywrightTimeoutError:
        raise AssertionError(
            f"waited {seconds:g} s for {what or expression} in {page.url}"
        ) from None


def epoch_of(page) -> int:
    return int(page.inner_text("#epoch").replace(",", ""))


@pytest.mark.timeout(60)
def test_play_trains_in_the_browser(browser, url, capsys):
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + "?dataset=circle&networkShape=4,2&learningRate=0.03")
    page.wait_for_selector("#heatmap[data-epoch='0']")
    blank = page.locator("#heatmap").screenshot()
    page.click("#play")
    # the epochs count up and the test loss falls below 0.2 (it starts near 0.7)
    wait_until(page, "Number(document.querySelector('#test-loss').textContent) < 0.2")
    page.click("#play")  # pause
    assert epoch_of(page) > 0
    train_loss = page.inner_text("#train-loss")
    assert re.fullmatch(r"\d+\.\d{3}", train_loss), train_loss
    assert float(page.inner_text("#test-loss")) < 0.2
    assert page.locator("#heatmap").screenshot() != blank  # the decision boundary was drawn
    assert page.locator("#links path.link").count() == 2 * 4 + 4 * 2 + 2 * 1
    png = page.screenshot()
    assert len(png) > 10_000
    assert not errors, errors
    page.close()
    shot = save_screenshot("playground.png", png)
    with capsys.disabled():
        print(f"\nplayground screenshot: {shot}")


@pytest.mark.timeout(60)
def test_play_learns_xor_with_the_product_feature(browser, url):
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + "?dataset=xor&networkShape=4,2&activation=tanh&learningRate=0.03")
    page.wait_for_selector("#heatmap[data-epoch='0']")
    page.click(".neuron.feature[data-feature='xTimesY']")  # x1·x2 on: xor becomes easy
    wait_until(page, "location.search.includes('xTimesY=true')")
    wait_until(page, "document.querySelectorAll('#links path.link').length == 3 * 4 + 4 * 2 + 2")
    assert float(page.inner_text("#test-loss")) > 0.3  # the new network has not learnt yet
    page.click("#play")
    # about 12 epochs take the test loss below 0.1
    wait_until(page, "Number(document.querySelector('#test-loss').textContent) < 0.1")
    page.click("#play")  # pause
    page.wait_for_selector("#play:not(.playing)")
    assert epoch_of(page) > 0 and float(page.inner_text("#test-loss")) < 0.1
    assert "dataset=xor" in page.url and "xTimesY=true" in page.url
    png = page.screenshot()
    assert not errors, errors
    page.close()
    save_screenshot("playground-xor.png", png)


@pytest.mark.timeout(60)
def test_settings_change_through_the_page_and_survive_a_reload(browser, url):
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    page.goto(url)
    page.wait_for_selector("#heatmap[data-epoch]")
    page.click("[data-dataset='xor']")
    wait_until(page, "location.search.includes('dataset=xor')")
    page.select_option("[data-key='activation']", "relu")
    wait_until(page, "location.search.includes('activation=relu')")
    page.click("#add-layer")
    wait_until(page, "new URLSearchParams(location.search).get('networkShape') == '4,2,2'")
    page.click(".neuron.feature[data-feature='sinX']")
    wait_until(page, "location.search.includes('sinX=true')")
    link = page.url
    page.goto(link)  # a copied link reproduces the lesson
    page.wait_for_selector("#heatmap[data-epoch]")
    assert page.url == link
    assert page.input_value("[data-key='activation']") == "relu"
    assert "selected" in page.get_attribute("[data-dataset='xor']", "class")
    assert page.inner_text("#layer-count") == "3 hidden layers"
    assert "off" not in page.get_attribute(".neuron.feature[data-feature='sinX']", "class")
    page.close()


@pytest.mark.timeout(60)
def test_divergence_shows_what_happened_and_offers_a_reset(browser, url):
    page = browser.new_page()
    page.goto(url + "?dataset=plane&activation=sigmoid&learningRate=10")
    page.wait_for_selector("#heatmap[data-epoch]")
    page.click("#play")
    page.wait_for_selector("#message:not([hidden])")
    assert "learning rate (10)" in page.inner_text("#message-text")
    assert "playing" not in page.get_attribute("#play", "class")
    assert page.inner_text("#train-loss") != "\u2013"  # the last good loss, not NaN
    page.click("#message-reset")
    page.wait_for_selector("#message", state="hidden")
    page.close()


def bp_values(page, kind: str) -> dict[tuple[int, int], float]:
    """The backprop view's numbers of one kind ("pre", "post", "delta") on the neurons, by
    (column, neuron), as the page holds them."""
    found = page.eval_on_selector_all(
        f".bp-label .bp-{kind}",
        "spans => spans.map(s => [+s.parentElement.dataset.column,"
        " +s.parentElement.dataset.neuron, Number(s.dataset.value)])",
    )
    return {(c, k): v for c, k, v in found}


@pytest.mark.timeout(60)
def test_the_backprop_view_shows_glassnets_own_gradients(browser, url):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + "?dataset=xor&networkShape=3,2&activation=tanh")
    page.wait_for_selector("#heatmap[data-epoch='0']")
    page.click("#backprop-toggle")
    page.wait_for_selector("#bp-example[data-index='0']")
    page.click("#bp-next")
    page.wait_for_selector("#bp-example[data-index='1']")
    index = 1
    # the same link builds the same network: glassnet's numbers for this example, here
    expected = TrainingSession(parse_query(urlsplit(page.url).query)).backprop(index)
    assert "Example 2 of 250" in page.inner_text("#bp-example")
    assert not bp_values(page, "pre")  # only the inputs so far
    page.click("#bp-forward")
    page.click("#bp-forward")
    assert page.is_disabled("#bp-backward")  # not before the forward pass is done
    page.click("#bp-forward")
    assert page.is_disabled("#bp-forward") and "Loss of this example" in page.inner_text("#bp-loss")
    assert float(page.get_attribute("#bp-loss", "data-value")) == pytest.approx(expected["loss"])
    pre = bp_values(page, "pre")
    assert len(pre) == 3 + 2 + 1 and not bp_values(page, "delta")
    for (column, k), value in pre.items():
        assert value == pytest.approx(float(expected["pre"][column - 1][k]), rel=1e-6)
    page.click("#bp-backward")  # the output's error signal first
    assert set(bp_values(page, "delta")) == {(3, 0)}
    assert "Backward, output" in page.inner_text("#bp-explain")
    page.click("#bp-backward")
    page.click("#bp-backward")
    assert page.is_disabled("#bp-backward") and "Done" in page.inner_text("#bp-explain")
    assert "(SGD on this example alone)" in page.inner_text("#bp-explain")  # the link's optimizer
    deltas = bp_values(page, "delta")
    assert len(deltas) == 6
    for (column, k), value in deltas.items():
        assert value == pytest.approx(float(expected["pre_grads"][column - 1][k]), rel=1e-6)
    # every weight line carries its gradient: 2x3 + 3x2 + 2x1 of them
    grads = page.eval_on_selector_all(
        "#links path.link", "paths => paths.map(p => Number(p.dataset.grad))"
    )
    flat = np.concatenate([g.ravel() for g in expected["weight_grads"]])
    np.testing.assert_allclose(grads, flat, rtol=1e-6)
    assert page.locator("#links text.bp-grad").count() == 2 * 3  # labels on the last layer done
    png = page.screenshot(full_page=True)  # for the README: a whole forward and backward pass
    # one SGD step with this example: its loss goes down
    before = float(page.get_attribute("#bp-loss", "data-value"))
    page.click("#bp-apply")
    wait_until(
        page, f"Number(document.querySelector('#bp-loss').dataset.value) < {before}", seconds=10
    )
    assert not errors, errors
    page.close()
    save_screenshot("playground-backprop.png", png)


@pytest.mark.timeout(60)
def test_a_weight_is_edited_in_the_page(browser, url):
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    page.goto(url + "?dataset=circle&networkShape=4,2")
    page.wait_for_selector("#heatmap[data-epoch='0']")
    before = page.locator("#heatmap").screenshot()
    line = page.locator("#links path.link").last
    page.locator("#links path.hit").last.click()  # drawn last: nothing lies over it
    editor = page.locator("#weight-editor")
    assert editor.is_visible() and float(editor.input_value()) == pytest.approx(
        float(line.get_attribute("data-weight")), abs=1e-3
    )
    editor.fill("-4.5")
    editor.press("Enter")
    wait_until(
        page, "[...document.querySelectorAll('#links path.link')].at(-1).dataset.weight === '-4.5'"
    )
    assert editor.is_hidden()
    # the lines are drawn just after the heatmap, in the same frame: it shows the edit already
    assert page.locator("#heatmap").screenshot() != before
    page.locator("#links path.hit").last.hover()
    assert page.inner_text("#tooltip").startswith("weight -4.50")
    page.locator("#links path.hit").last.click()
    editor.fill("lots")
    editor.press("Enter")
    page.wait_for_selector("#message:not([hidden])")
    assert "should be a finite number" in page.inner_text("#message-text")
    page.close()


@pytest.mark.timeout(60)
def test_a_csv_file_is_uploaded_through_the_page(browser, url, tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[-3.0, -3.0], [3.0, 3.0], [-3.0, 3.0]])
    labels = np.arange(90) % 3
    points = centres[labels] + rng.normal(0, 0.6, (90, 2))
    good = tmp_path / "three.csv"
    good.write_text(
        "x1,x2,label\n" + "".join(f"{x:.3f},{y:.3f},{k}\n" for (x, y), k in zip(points, labels))
    )
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    page.goto(url + "?percTrainData=50")
    page.wait_for_selector("#heatmap[data-epoch='0']")
    assert page.is_hidden("#csv-dataset")
    assert page.is_enabled("[data-key='noise']") and page.is_hidden("#noise-note")
    page.set_input_files("#upload-file", str(good))
    wait_until(page, "location.search.includes('dataset=csv')")
    page.wait_for_selector("#message:not([hidden])")
    assert "Loaded three.csv: 90 points, 3 classes (45 for training)" in page.inner_text(
        "#message-text"
    )
    assert page.is_visible("#csv-dataset") and "selected" in page.get_attribute(
        "#csv-dataset", "class"
    )
    assert page.locator("#legend .swatch").count() == 3
    assert page.locator(".neuron.output").count() == 3  # softmax over 3 classes
    # the file's points are used as they are: the noise slider is off, and says why
    assert page.is_disabled("[data-key='noise']")
    assert "used as they are" in page.inner_text("#noise-note")
    page.click("#step")
    page.wait_for_selector("#heatmap[data-epoch='1']")
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n" + "1,2,0\n" * 5 + "1,two,1\n" + "3,4,1\n" * 10)
    page.set_input_files("#upload-file", str(bad))
    wait_until(page, "document.querySelector('#message-text').textContent.includes('row 7')")
    assert "column 2 (x2): 'two' is not a finite number" in page.inner_text("#message-text")
    assert "dataset=csv" in page.url  # the good data stays
    page.click("[data-dataset='circle']")
    wait_until(page, "location.search.includes('dataset=circle')")
    assert page.is_enabled("[data-key='noise']") and page.is_hidden("#noise-note")
    page.close()


@pytest.mark.timeout(60)
def test_the_network_exported_through_the_page_predicts_what_its_tab_predicts(
    browser, served, tmp_path
):
    server, url = served
    page = browser.new_page()
    page.goto(url + "?dataset=gauss&networkShape=3,2&activation=relu&xTimesY=true")
    page.wait_for_selector("#heatmap[data-epoch='0']")
    for epoch in (1, 2, 3):
        page.click("#step")
        page.wait_for_selector(f"#heatmap[data-epoch='{epoch}']")
    with page.expect_download() as downloading:
        page.click("#export")
    download = downloading.value
    assert download.suggested_filename == "playground_model.zip"
    download.save_as(tmp_path / "playground_model.zip")
    with zipfile.ZipFile(tmp_path / "playground_model.zip") as archive:
        archive.extractall(tmp_path)
    script = tmp_path / "playground_model" / "playground_model.py"
    # the tab's own session, on the server: the download's URL names it
    session_id = urlsplit(download.url).path.rsplit("/", 1)[-1]
    session = server.config.app.state.connections[session_id].session
    assert session.snapshot()["epoch"] == 3
    check_exported_script(script, session, tmp_path)
    page.click("#step")  # the download left the tab (and its socket) alone
    page.wait_for_selector("#heatmap[data-epoch='4']")
    page.close()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_four_tabs_play_at_once(browser, url):
    """Four tabs of one browser play at once: each trains in the server's worker threads while
    the others draw their heatmaps. Every tab's epoch counter keeps rising (read in turn as
    each passes 10 epochs, then 10 more) and no tab shows a message."""
    queries = [
        "dataset=circle&networkShape=4,2",
        "dataset=xor&networkShape=6,3&activation=relu&xTimesY=true",
        "dataset=spiral&classes=3&networkShape=8,8&optimizer=adam&learningRate=0.01",
        "dataset=blobs&classes=4&networkShape=5,5&dropout=0.2",
    ]
    errors: list[str] = []
    pages = []
    for query in queries:
        page = browser.new_page(viewport={"width": 1300, "height": 800})
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{url}?{query}")
        page.wait_for_selector("#heatmap[data-epoch='0']")
        pages.append(page)
    for page in pages:
        page.click("#play")
    # One call per tab and reading: a page busy drawing 60 updates a second answers slowly.
    marks = [10] * len(pages)
    for reading in range(2):
        for k, (query, page) in enumerate(zip(queries, pages)):
            status = wait_until(  # the epoch has passed the mark, or a message shows
                page,
                f"""(() => {{
                    const epoch = Number(document.querySelector('#epoch').textContent
                        .replace(/,/g, ''));
                    const message = document.querySelector('#message').hidden ? null
                        : document.querySelector('#message-text').textContent;
                    const playing = document.querySelector('#play').classList.contains('playing');
                    return (epoch >= {marks[k]} || message !== null) && {{epoch, message, playing}};
                }})()""",
                f"the tab {query!r} to pass epoch {marks[k]} (reading {reading + 1})",
                seconds=45,  # 10 epochs take 1-15 s here, depending on what else runs
            )
            assert status["message"] is None and status["playing"], (query, status)
            marks[k] = status["epoch"] + 10
    for page in pages:
        page.close()
    assert not errors, errors


@pytest.mark.timeout(60)
def test_an_internal_error_shows_and_stops_the_play_button(browser, url, monkeypatch):
    def broken(self, *args):
        raise RuntimeError("a bug")

    page = browser.new_page()
    page.goto(url + "?dataset=circle")
    page.wait_for_selector("#heatmap[data-epoch='0']")
    monkeypatch.setattr(TrainingSession, "train_update", broken)  # in the server's threads too
    page.click("#play")
    wait_until(
        page,
        "document.querySelector('#message-text').textContent.includes('internal error')",
        "the internal error's message",
    )
    assert "a bug" in page.inner_text("#message-text")
    page.wait_for_selector("#play:not(.playing)")
    monkeypatch.undo()
    page.click("#step")  # the tab goes on
    page.wait_for_selector("#heatmap[data-epoch='1']")
    page.close()
