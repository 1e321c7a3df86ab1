"""The Control UI in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium
over WebDriver) against the real gateway that tests/control_ui_browser.rs started with the fake
model upstream. Prints one JSON report; every check that fails raises, saves a screenshot named
after the step, and the report names the step and the error.

argv[1]: JSON {url, token, openclaw, env, screenshots}
"""

import json
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ARGS = json.loads(sys.argv[1])
URL = ARGS["url"]  # http://127.0.0.1:<port>/
TOKEN = ARGS["token"]
SHOTS = ARGS["screenshots"]
report = {"steps": []}
drivers = []


def browser(*extra_flags):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1200,900", *extra_flags):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(20)
    drivers.append(driver)
    return driver


def wait(driver, condition, timeout=10, what="condition"):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; page says: {text(driver)[:600]!r}")


def text(driver):
    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except Exception:  # noqa: BLE001 - only for messages
        return ""


def conn_state(driver):
    return driver.find_element(By.ID, "conn").get_attribute("data-state")


def shot(driver, name):
    path = os.path.join(SHOTS, f"{name}.png")
    driver.save_screenshot(path)
    return path


def cli(*args):
    env = dict(ARGS["env"])
    out = subprocess.run([ARGS["openclaw"], *args], env=env, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError(f"openclaw {' '.join(args)} failed: {out.stdout} {out.stderr}")
    return out.stdout


def pending_requests():
    listing = json.loads(cli("gateway", "call", "device.pair.list", "--json"))
    return listing.get("pending", [])


def step(name):
    def run(fn):
        started = time.time()
        entry = {"step": name}
        report["steps"].append(entry)
        try:
            entry.update(fn() or {})
            entry["ok"] = True
        except Exception as e:  # noqa: BLE001 - reported, then the run stops
            entry["ok"] = False
            entry["error"] = f"{type(e).__name__}: {e}"
            for i, d in enumerate(drivers):
                try:
                    shot(d, f"failure-{name}-{i}")
                except Exception:  # noqa: BLE001
                    pass
            raise
        finally:
            entry["seconds"] = round(time.time() - started, 2)
        return fn
    return run


FOREIGN_PAGE = """<!doctype html><meta charset="utf-8"><title>another site</title><pre id="result"></pre>
<script>
const ws = new WebSocket("ws://127.0.0.1:%(port)s/");
let res = null;
ws.onmessage = (m) => {
  const f = JSON.parse(m.data);
  if (f.event === "connect.challenge") {
    ws.send(JSON.stringify({type: "req", id: "1", method: "connect", params: {minProtocol: 4, maxProtocol: 4,
      client: {id: "openclaw-control-ui", version: "x", platform: "web", mode: "ui"}, role: "operator",
      scopes: ["operator.admin"], auth: {token: %(token)s}}}));
  } else if (f.type === "res") { res = f; }
};
ws.onclose = (e) => { document.getElementById("result").textContent = JSON.stringify({code: e.code, reason: e.reason, res}); };
</script>"""


def foreign_site():
    """A page on another origin (another port) that tries the gateway with the real token."""
    import http.server
    import threading
    from urllib.parse import urlparse

    port = urlparse(URL).port
    body = (FOREIGN_PAGE % {"port": port, "token": json.dumps(TOKEN)}).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def go(driver, view):
    driver.find_element(By.CSS_SELECTOR, f'#nav a[href$="/{view}"]').click()
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "main h1").text.startswith(
        {"chat": "Chat", "devices": "Devices", "logs": "Logs", "config": "Config", "": "Overview"}[view]),
        what=f"the {view or 'overview'} view")


def main():
    a = browser()

    @step("a_new_browser_is_asked_to_pair_and_shows_the_approve_command")
    def _():
        a.get(URL + "#token=" + TOKEN)
        wait(a, lambda d: conn_state(d) == "pairing", what="the pairing-required state")
        page = text(a)
        assert "Pairing required" in page and "device.pair.approve" in page, page
        pending = pending_requests()
        assert len(pending) == 1, pending
        assert pending[0]["requestId"] in page, "the page names the request to approve"
        shot(a, "pairing-required")
        cli("gateway", "call", "device.pair.approve", "--params", json.dumps({"requestId": pending[0]["requestId"]}))
        return {"requestId": pending[0]["requestId"]}

    @step("once_approved_it_connects_and_the_overview_shows_version_and_health")
    def _():
        wait(a, lambda d: conn_state(d) == "connected", timeout=15, what="the connection after approval")
        wait(a, EC.presence_of_element_located((By.CSS_SELECTOR, '[data-field="gateway"]')), what="the overview")
        version = a.find_element(By.CSS_SELECTOR, '[data-field="gateway"]').text
        health = a.find_element(By.CSS_SELECTOR, '[data-field="health"]').text
        href = a.execute_script("return location.href")
        stored = a.execute_script("return sessionStorage.getItem('openclaw.token')")
        assert TOKEN not in href, f"the token stayed in the address bar: {href}"
        assert stored == TOKEN, "the token is kept in this tab's sessionStorage"
        paint = a.execute_script(
            "const p = performance.getEntriesByType('paint'); "
            "const f = p.find(e => e.name === 'first-contentful-paint') || p[0]; return f ? f.startTime : null")
        shot(a, "overview")
        return {"version": version, "health": health, "href": href, "firstPaintMs": paint}

    @step("a_fresh_load_measures_first_paint")
    def _():
        samples = []
        for _ in range(5):
            a.get(URL)
            wait(a, lambda d: d.execute_script("return performance.getEntriesByType('paint').length > 0"), what="a paint")
            samples.append(a.execute_script(
                "const p = performance.getEntriesByType('paint'); "
                "return (p.find(e => e.name === 'first-contentful-paint') || p[0]).startTime"))
            wait(a, lambda d: conn_state(d) == "connected", what="the reconnection")
        samples.sort()
        return {"firstPaintMs": samples, "medianMs": samples[len(samples) // 2]}

    @step("a_chat_message_streams_its_answer_which_stays_after_a_reload")
    def _():
        go(a, "chat")
        box = a.find_element(By.CSS_SELECTOR, ".composer textarea")
        box.send_keys("hello from the browser")
        box.send_keys(Keys.ENTER)
        wait(a, lambda d: d.find_elements(By.CSS_SELECTOR, ".msg.assistant.streaming"), what="a streaming answer")
        seen_partial = False
        deadline = time.time() + 15
        while time.time() < deadline:
            msgs = a.find_elements(By.CSS_SELECTOR, ".msg.assistant")
            streaming = a.find_elements(By.CSS_SELECTOR, ".msg.assistant.streaming")
            t = msgs[-1].find_element(By.CSS_SELECTOR, ".text").text if msgs else ""
            if streaming and t and t != "Hello, browser. Streaming works.":
                seen_partial = True
            if not streaming and t == "Hello, browser. Streaming works.":
                break
            time.sleep(0.02)
        else:
            raise AssertionError(f"the answer did not complete: {text(a)[:400]!r}")
        shot(a, "chat")
        a.refresh()
        wait(a, lambda d: conn_state(d) == "connected", what="the reconnection")
        wait(a, lambda d: "Hello, browser. Streaming works." in text(d), what="the answer after reload")
        assert "hello from the browser" in text(a)
        return {"sawPartialText": seen_partial}

    @step("stop_mid_stream_keeps_the_partial_answer_marked_stopped")
    def _():
        box = a.find_element(By.CSS_SELECTOR, ".composer textarea")
        box.send_keys("please write slowly")
        box.send_keys(Keys.ENTER)
        wait(a, lambda d: d.find_elements(By.CSS_SELECTOR, ".msg.assistant.streaming .text")
             and d.find_elements(By.CSS_SELECTOR, ".msg.assistant.streaming .text")[-1].text.startswith("Slow"),
             timeout=15, what="the first words of the slow answer")
        a.find_element(By.XPATH, "//button[text()='Stop']").click()
        wait(a, lambda d: not d.find_elements(By.CSS_SELECTOR, ".msg.assistant.streaming"), what="the run to stop")
        last = a.find_elements(By.CSS_SELECTOR, ".msg.assistant")[-1]
        assert "stopped" in last.text, last.text
        partial = last.find_element(By.CSS_SELECTOR, ".text").text
        assert partial.startswith("Slow") and "never" not in partial, partial
        shot(a, "chat-stopped")
        return {"partial": partial}

    b = browser()

    @step("a_second_browser_waits_for_approval_and_the_first_approves_it_from_devices")
    def _():
        b.get(URL + "#token=" + TOKEN)
        wait(b, lambda d: conn_state(d) == "pairing", what="the second browser's pairing state")
        go(a, "devices")
        wait(a, lambda d: d.find_elements(By.CSS_SELECTOR, 'button[data-action="approve"]'), what="the pending device")
        shot(a, "devices-pending")
        a.find_element(By.CSS_SELECTOR, 'button[data-action="approve"]').click()
        wait(b, lambda d: conn_state(d) == "connected", timeout=15, what="the second browser to connect")
        wait(a, lambda d: not d.find_elements(By.CSS_SELECTOR, 'button[data-action="approve"]'), what="the pending list to empty")
        shot(a, "devices")
        return {"pendingAfter": len(pending_requests())}

    @step("a_page_of_another_origin_is_refused_and_the_logs_view_shows_that_line_live")
    def _():
        go(a, "logs")
        time.sleep(0.3)
        foreign = foreign_site()
        # A site of its own name (resolved to this machine, as DNS rebinding would): loopback
        # origins are allowed for local clients, a named site is not.
        origin = f"evil.test:{foreign.server_port}"
        c = browser("--host-resolver-rules=MAP evil.test 127.0.0.1")
        c.get(f"http://{origin}/")
        wait(c, lambda d: d.find_element(By.ID, "result").text != "", what="the foreign page's result")
        result = json.loads(c.find_element(By.ID, "result").text)
        foreign.shutdown()
        assert result["code"] == 1008, result
        assert result["res"]["error"]["details"]["code"] == "CONTROL_UI_ORIGIN_NOT_ALLOWED", result
        # The refusal is logged with the page's origin: a line written after the view opened.
        wait(a, lambda d: origin in d.find_element(By.CSS_SELECTOR, "pre.logs").text, timeout=10, what="the new log line")
        shot(a, "logs")
        # The level filter: warnings keep the stopped run's line and drop the refusal (info).
        Select(a.find_element(By.CSS_SELECTOR, ".toolbar select")).select_by_value("warn")
        shown = a.find_element(By.CSS_SELECTOR, "pre.logs").text
        assert "model call failed" in shown and origin not in shown, shown[-600:]
        shot(a, "logs-warnings")
        return {"foreignPage": result}

    @step("the_config_view_shows_the_file_with_secrets_redacted")
    def _():
        go(a, "config")
        wait(a, lambda d: "Effective config" in text(d), what="the config")
        page = text(a)
        assert TOKEN not in page
        shot(a, "config")
        return {}

    @step("at_360_px_wide_every_view_fits_without_sideways_scrolling")
    def _():
        a.set_window_size(360, 800)
        widths = {}
        for view in ("chat", "devices", "logs", "config"):
            go(a, view)
            time.sleep(0.2)
            widths[view] = a.execute_script("return document.documentElement.scrollWidth")
            shot(a, f"narrow-{view}")
        a.set_window_size(1200, 900)
        # The window is 360 px wide including its scroll bar: the page may be no wider.
        wide = {k: v for k, v in widths.items() if v > 360}
        assert not wide, wide
        return {"scrollWidths": widths}

    @step("a_wrong_token_shows_an_auth_error_and_the_token_form")
    def _():
        d = browser()
        started = time.time()
        d.get(URL + "#token=not-the-token")
        wait(d, lambda x: x.find_elements(By.CSS_SELECTOR, ".token-form .error"), timeout=8, what="the auth error")
        message = d.find_element(By.CSS_SELECTOR, ".token-form .error").text
        shot(d, "wrong-token")
        return {"message": message, "seconds": round(time.time() - started, 2)}

    @step("no_request_url_carried_the_token")
    def _():
        urls = []
        for d in drivers:
            for entry in d.get_log("performance"):
                m = json.loads(entry["message"])["message"]
                if m.get("method") in ("Network.requestWillBeSent", "Network.webSocketCreated"):
                    urls.append(m["params"].get("request", {}).get("url") or m["params"].get("url"))
        leaked = [u for u in urls if u and TOKEN in u]
        assert urls, "no requests were recorded"
        assert not leaked, leaked
        return {"requests": len(urls)}


if __name__ == "__main__":
    code = 0
    try:
        main()
    except Exception:  # noqa: BLE001 - the report carries it
        code = 1
    finally:
        for d in drivers:
            try:
                d.quit()
            except Exception:  # noqa: BLE001
                pass
    print(json.dumps(report))
    sys.exit(code)
