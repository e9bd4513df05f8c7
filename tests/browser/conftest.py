"""Report pages measured in a real browser: headless Chromium, as a manager's browser lays them out.

Why this route (and not Selenium or playwright): Debian's ``chromium`` (installed by
``.ci/install-chromium``, which ``make test`` runs) lays a page out and runs its scripts with
``--headless --dump-dom``, offline, with no driver and no Python package; playwright cannot
download its browsers here and Selenium would need Debian's ``chromium-driver`` too. Each page is
copied with one extra script (:data:`MEASURE_SCRIPT`) that runs on ``load``, measures the laid-out
page and writes the result into the DOM as JSON, which ``--dump-dom`` prints. The copy goes to a
temporary folder (report pages are self-contained: images are embedded, styles inline); the page
itself is not changed.

Helpers are handed out as fixtures (not imported) so the tests work in any pytest import mode.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

#: The viewport a page is checked at: a common laptop browser window.
VIEWPORT = (1400, 900)
#: Where the measurement lands in the dumped DOM.
RESULT_ID = "custkit-browser-measurement"
#: Set to a finished run's output folder (holding ``index.html``) to check those pages, e.g. the
#: demo's ``reports/``, instead of a small run made for the test.
REPORTS_ENV = "CUSTKIT_BROWSER_REPORTS"
#: The browser binary; default: ``chromium`` on the PATH.
CHROMIUM_ENV = "CUSTKIT_CHROMIUM"

# Runs on `load` (images decoded by then), so what it reads is the laid-out page. An element
# overflows when its box reaches past the viewport's right edge, unless an ancestor scrolls or
# clips it (a wide table in an `overflow-x: auto` box widens the box's content, not the page);
# only the outermost such element of a branch is listed (its children overflow with it).
MEASURE_SCRIPT = (
    r"""<script>
window.addEventListener("load", function () {
  var root = document.documentElement, width = window.innerWidth;
  function describe(el) {
    var cls = el.getAttribute("class") || "";
    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      (cls ? "." + cls.trim().split(/\s+/).join(".") : "");
  }
  // the height and the sections as a reader first sees the page: folded blocks closed
  var height = root.scrollHeight;
  var sections = Array.prototype.map.call(document.querySelectorAll("h2"), function (h) {
    return {title: (h.textContent || "").replace(/¶/g, "").trim().slice(0, 80),
            top: Math.round(h.getBoundingClientRect().top + window.scrollY)};
  });
  // everything else with every folded block opened: what is inside must fit and show too
  var folded = document.querySelectorAll("details:not([open])").length;
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  var overflowing = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5) {
      for (var up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== "visible") return;  // scrolls in its own box
        if (up.getBoundingClientRect().right > width + 0.5) return;  // listed with its parent
      }
      overflowing.push({element: describe(el), right: Math.round(box.right),
                        text: (el.textContent || "").trim().slice(0, 80)});
    }
  });
  var images = Array.prototype.map.call(document.images, function (img) {
    var box = img.getBoundingClientRect();
    return {src: (img.getAttribute("src") || "").slice(0, 40), complete: img.complete,
            natural_width: img.naturalWidth, shown_width: Math.round(box.width),
            shown_height: Math.round(box.height)};
  });
  var svgs = Array.prototype.map.call(document.querySelectorAll("svg"), function (svg) {
    var box = svg.getBoundingClientRect();
    return {label: svg.getAttribute("aria-label") || describe(svg),
            shapes: svg.querySelectorAll(
              "path, line, polyline, polygon, rect, circle, ellipse, text, use, image").length,
            shown_width: Math.round(box.width), shown_height: Math.round(box.height)};
  });
  // a date broken over two lines ("2026-" / "10-14") reads as two numbers
  var wrapped = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  var dates = /\d{4}-\d{2}(?:-\d{2})?|\d{1,2} [^\s\d]+\.? \d{4}/g;
  for (var node = walker.nextNode(); node; node = walker.nextNode()) {
    var match;
    dates.lastIndex = 0;
    while ((match = dates.exec(node.data)) !== null) {
      var range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      var tops = {};
      Array.prototype.forEach.call(range.getClientRects(), function (r) {
        if (r.width > 0) tops[Math.round(r.top)] = true;
      });
      if (Object.keys(tops).length > 1) {
        wrapped.push({date: match[0], element: describe(node.parentElement)});
      }
    }
  }
  var out = document.createElement("script");
  out.type = "application/json";
  out.id = "__RESULT_ID__";
  out.textContent = JSON.stringify({
    viewport_width: width, viewport_height: window.innerHeight,
    scroll_width: root.scrollWidth, scroll_height: height, folded_blocks: folded,
    overflowing: overflowing, images: images, svgs: svgs, wrapped_dates: wrapped,
    sections: sections});
  document.body.appendChild(out);
});
</script>"""
).replace("__RESULT_ID__", RESULT_ID)
_RESULT_RE = re.compile(rf'<script type="application/json" id="{RESULT_ID}">(.*?)</script>', re.S)


def chromium_binary() -> str:
    """The Chromium to run; fails (never skips) when there is none, saying how to install it."""
    name = os.environ.get(CHROMIUM_ENV, "chromium")
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"The browser check needs Chromium; {name!r} is not on the PATH. Install it with "
            "`.ci/install-chromium` (which `make test` runs), or set "
            f"{CHROMIUM_ENV} to a Chromium binary.",
            pytrace=False,
        )
    return found


@functools.cache
def _window_size(binary: str) -> tuple[int, int]:
    """The window that gives a :data:`VIEWPORT` page area: Chromium's headless mode keeps part of
    the window for its (unseen) toolbar, 87 px in Chromium 156; asked of the browser once."""
    width, height = VIEWPORT
    probe = (
        "data:text/html,<body><script>document.body.textContent = "
        "'viewport=' + innerWidth + 'x' + innerHeight</script></body>"
    )
    done = subprocess.run(
        _chromium_command(binary, probe, (width, height)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r"viewport=(\d+)x(\d+)", done.stdout)
    if found is None:
        pytest.fail(
            f"Chromium did not start (exit status {done.returncode}): {done.stderr[-2000:]}",
            pytrace=False,
        )
    return 2 * width - int(found.group(1)), 2 * height - int(found.group(2))


def _chromium_command(binary: str, url: str, window: tuple[int, int]) -> list[str]:
    width, height = window
    return [
        binary,
        "--headless",
        "--no-sandbox",  # as root in a container the sandbox cannot start
        "--disable-gpu",
        "--hide-scrollbars",  # a scroll bar would take 15 px of the 1400
        "--no-first-run",
        "--disable-background-networking",
        "--disable-extensions",
        "--mute-audio",
        f"--window-size={width},{height}",
        "--virtual-time-budget=10000",  # let the page finish loading before the dump
        "--dump-dom",
        url,
    ]


def measure_pages(pages: dict[str, Path], workdir: Path, timeout: float = 180) -> dict[str, dict]:
    """Lay out each page in headless Chromium at :data:`VIEWPORT` and measure it.

    Parameters
    ----------
    pages : dict of str to Path
        Name → HTML file. The browsers run side by side.
    workdir : Path
        Empty folder for the measured copies.
    timeout : float
        Seconds to wait for the slowest page (a page takes about 3 s on an idle machine; the
        shared 2-core machines run at a load of 10-30).

    Returns
    -------
    dict of str to dict
        Name → ``viewport_width``, ``viewport_height``, ``scroll_width``, ``scroll_height``
        (CSS pixels), ``overflowing`` (outermost elements past the right edge: ``element``,
        ``right``, ``text``), ``images`` (``src``, ``complete``, ``natural_width``,
        ``shown_width``, ``shown_height``) and ``svgs`` (``label``, ``shapes``, ``shown_width``,
        ``shown_height``), ``wrapped_dates`` (dates laid out over two lines: ``date``,
        ``element``) and ``sections`` (each ``<h2>``: ``title``, ``top`` in px from the page top).
    """
    binary = chromium_binary()
    window = _window_size(binary)
    running = {}
    try:
        for name, page in pages.items():
            html = page.read_text(encoding="utf-8")
            if "</body>" not in html:
                pytest.fail(f"{page} has no </body>: not a complete HTML page.", pytrace=False)
            copy = workdir / f"{name}.html"
            head, _, tail = html.rpartition("</body>")
            copy.write_text(head + MEASURE_SCRIPT + "</body>" + tail, encoding="utf-8")
            running[name] = subprocess.Popen(
                _chromium_command(binary, copy.as_uri(), window),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        results = {}
        for name, process in running.items():
            dom, errors = process.communicate(timeout=timeout)
            found = _RESULT_RE.search(dom)
            if found is None:
                pytest.fail(
                    f"Chromium returned no measurement for {pages[name]} (exit status "
                    f"{process.returncode}). Its messages:\n{errors[-2000:]}",
                    pytrace=False,
                )
            results[name] = json.loads(found.group(1))
        return results
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def report_folder(request) -> Path:
    """A run's output folder: :data:`REPORTS_ENV` if set, else the small demo run of the session
    (``small_demo_reports`` in ``tests/conftest.py``, which the consistency test reads too)."""
    given = os.environ.get(REPORTS_ENV)
    if given:
        folder = Path(given).expanduser().resolve()
        if not (folder / "index.html").is_file():
            pytest.fail(f"{REPORTS_ENV}={given} holds no index.html.", pytrace=False)
        return folder
    return request.getfixturevalue("small_demo_reports")


@pytest.fixture(scope="session")
def report_pages(report_folder) -> dict[str, Path]:
    """``{"index": …, "summary": …, "audit": …, …}``: the index, the monthly summary when the run
    has one, and every report of the run's latest month (``<month>/<report>/<report>.html``)."""
    months = sorted(p for p in report_folder.iterdir() if re.fullmatch(r"\d{4}-\d{2}", p.name))
    assert months, f"{report_folder} holds no report month"
    pages = {"index": report_folder / "index.html"}
    if (months[-1] / "summary.html").is_file():  # the monthly summary (issue 15 item 4)
        pages["summary"] = months[-1] / "summary.html"
    for html in sorted(months[-1].glob("*/*.html")):
        if html.stem == html.parent.name:  # <month>/<report>/<report>.html
            pages[html.stem] = html
    return pages


@pytest.fixture(scope="session")
def measurements(report_pages, tmp_path_factory) -> dict[str, dict]:
    """Every page of :func:`report_pages` measured in Chromium (see :func:`measure_pages`)."""
    return measure_pages(report_pages, tmp_path_factory.mktemp("measured"))


@pytest.fixture(scope="session")
def measure():
    """``measure(pages: {name: Path}, workdir) -> {name: measurement}``: :func:`measure_pages`."""
    return measure_pages
