"""The playground in real headless Chromium (Debian's package, driven by Playwright): press play,
watch the epochs count and the test loss fall, change the dataset through the page, and reload
the page from its own URL. Skipped where Chromium or Playwright is missing; `.ci/run` installs
Chromium, so CI always runs it. The screenshot goes to the test's temporary folder."""

import os
import re
import threading
import time

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)", allow_module_level=True
    )
pytest.importorskip("playwright", reason="Playwright for Python is not installed")
pytest.importorskip("uvicorn", reason="the playground extra is not installed")

from playwright.sync_api import sync_playwright  # noqa: E402

from glassnet.playground.app import make_server  # noqa: E402

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def url():
    server, sock, address = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the playground server did not start"
        time.sleep(0.02)
    yield address
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def epoch_of(page) -> int:
    return int(page.inner_text("#epoch").replace(",", ""))


@pytest.mark.timeout(60)
def test_play_trains_in_the_browser(browser, url, tmp_path, capsys):
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + "?dataset=circle&networkShape=4,2&learningRate=0.03")
    page.wait_for_selector("#heatmap[data-epoch='0']")
    blank = page.locator("#heatmap").screenshot()
    page.click("#play")
    # the epochs count up and the test loss falls below 0.2 (it starts near 0.7)
    page.wait_for_function(
        "Number(document.querySelector('#test-loss').textContent) < 0.2", timeout=30_000
    )
    page.click("#play")  # pause
    assert epoch_of(page) > 0
    train_loss = page.inner_text("#train-loss")
    assert re.fullmatch(r"\d+\.\d{3}", train_loss), train_loss
    assert float(page.inner_text("#test-loss")) < 0.2
    assert page.locator("#heatmap").screenshot() != blank  # the decision boundary was drawn
    assert page.locator("#links path.link").count() == 2 * 4 + 4 * 2 + 2 * 1
    shot = tmp_path / "playground.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    with capsys.disabled():
        print(f"\nplayground screenshot: {shot}")
    assert not errors, errors
    page.close()


@pytest.mark.timeout(60)
def test_settings_change_through_the_page_and_survive_a_reload(browser, url):
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    page.goto(url)
    page.wait_for_selector("#heatmap[data-epoch]")
    page.click("[data-dataset='xor']")
    page.wait_for_function("location.search.includes('dataset=xor')")
    page.select_option("[data-key='activation']", "relu")
    page.wait_for_function("location.search.includes('activation=relu')")
    page.click("#add-layer")
    page.wait_for_function("new URLSearchParams(location.search).get('networkShape') == '4,2,2'")
    page.click(".neuron.feature[data-feature='sinX']")
    page.wait_for_function("location.search.includes('sinX=true')")
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
