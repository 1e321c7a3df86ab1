"""First paint of a gateway's Control UI in headless Chromium (Debian's chromium and
chromedriver, Selenium from tests/setup.sh's Python folder): one browser, `loads` page loads of
`url`; prints a JSON list of first-contentful-paint times (ms, Performance API), the first with
an empty cache, the rest with the browser's cache. Used by benches/gateway/control_ui.rs.

argv: url loads
"""

import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

url, loads = sys.argv[1], int(sys.argv[2])
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--window-size=1200,900"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(60)
PAINT = ("const p = performance.getEntriesByType('paint');"
         "const f = p.find(e => e.name === 'first-contentful-paint') || p[0]; return f ? f.startTime : null")
times = []
try:
    for i in range(loads):
        driver.get("about:blank")
        driver.get(url)
        deadline = time.time() + 30
        paint = None
        while paint is None and time.time() < deadline:
            paint = driver.execute_script(PAINT)
            if paint is None:
                time.sleep(0.05)
        times.append(paint)
finally:
    driver.quit()
print(json.dumps(times))
