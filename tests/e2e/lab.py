"""JupyterLab in Debian's headless Chromium, driven by Playwright, for the browser tests
(``reference/test-infrastructure.md`` §2): one server for the whole run, isolated from
~/.jupyter (its settings folder is where a test picks the theme), and notebook pages with
the console's errors collected."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "smnb-test-token"
CHROMIUM = "/usr/bin/chromium"
# Text is read with expect(...).to_contain_text (the DOM's text, retried): JupyterLab gives
# cells `content-visibility: auto`, so a cell scrolled out of view has an empty innerText.
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """A notebook open in JupyterLab, with the browser console's errors collected."""

    def __init__(self, browser, url: str, name: str, height: int = 1100):
        self.page = browser.new_page(viewport={"width": 1280, "height": height},
                                     permissions=["clipboard-read", "clipboard-write"])
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(f"{url}/lab/tree/{name}?reset&token={TOKEN}")
        self.page.wait_for_selector(".jp-StatusBar-Widget :text('| Idle')", timeout=90_000)

    def run_all(self) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        self.page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

    def run_cell(self, index: int) -> None:
        """Run one cell (from 0) as a user does: click into it, Shift+Enter."""
        cell = self.page.locator(".jp-Notebook .jp-Cell").nth(index)
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")

    def save(self) -> None:
        self.page.keyboard.press("Control+s")
        self.page.wait_for_selector(".jp-mod-dirty", state="detached", timeout=30_000)

    def contrast(self, selectors: str) -> list[dict]:
        """Every text under ``selectors``: its contrast with what is drawn behind it."""
        return self.page.evaluate(CONTRAST_JS, selectors)

    def shot(self, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def set_theme(base: Path, dark: bool) -> None:
    """JupyterLab's theme for the pages opened from now on."""
    folder = base / "settings" / "@jupyterlab" / "apputils-extension"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "themes.jupyterlab-settings").write_text(json.dumps(
        {"theme": "JupyterLab Dark" if dark else "JupyterLab Light"}))


def shut_down_kernels(url: str) -> None:
    """As a user's "Shut Down All Kernels": the widgets' models go with them."""
    for session in _api(url, "sessions"):
        _api(url, f"sessions/{session['id']}", "DELETE")


def _api(url: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{url}/api/{path}?token={TOKEN}", method=method)
    with urllib.request.urlopen(request, timeout=30) as reply:
        body = reply.read()
    return json.loads(body) if body else None


# The ratio of each text's colour (its alpha blended) to the colours actually painted behind
# it: the layers at the text's centre, from the element down to the first opaque one (a
# background colour, or an SVG shape's fill), blended.  Disabled controls are exempt
# (WCAG 1.4.3); a text out of view, or under JupyterLab's own chrome, is "offscreen".
CONTRAST_JS = r"""
(selectors) => {
  const parse = (c) => {
    const m = /rgba?\(([^)]*)\)/.exec(c || "");
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]))
    .concat([1]);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const [h, l] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (h + 0.05) / (l + 0.05); };
  const shapes = ["rect", "path", "polygon", "circle", "ellipse"];
  const layer = (el) => {
    const s = getComputedStyle(el);
    const shape = el instanceof SVGElement && shapes.includes(el.tagName);
    const c = parse(shape ? s.fill : s.backgroundColor);
    if (!c) return null;
    c[3] *= Number(s.opacity || 1) * (shape ? Number(s.fillOpacity || 1) : 1);
    return c[3] > 0 ? c : null;
  };
  const background = (stack, self) => {
    const start = Math.max(stack.indexOf(self), 0);
    const layers = [];
    let behind = "page";
    for (const el of stack.slice(start)) {
      const c = layer(el);
      if (c) {
        layers.push(c);
        if (c[3] >= 1) {
          behind = el.tagName.toLowerCase() + "." + (el.getAttribute("class") || "");
          break;
        }
      }
    }
    let bg = [255, 255, 255, 1];
    if (layers.length && layers[layers.length - 1][3] >= 1) bg = layers.pop();
    for (const c of layers.reverse()) bg = over(c, bg);
    return [bg, behind];
  };
  const out = [];
  const seen = new Set();
  for (const root of document.querySelectorAll(selectors)) {
    for (const el of [root, ...root.querySelectorAll("*")]) {
      if (seen.has(el) || ["STYLE", "SCRIPT"].includes(el.tagName)) continue;
      seen.add(el);
      const texts = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
      const field = el.matches("input[type=text], input:not([type]), select, textarea")
        && (el.value || "").trim();
      if (!texts.length && !field) continue;
      if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
      if (el.closest(":disabled, .mod-disabled")) continue;
      let rect = el.getBoundingClientRect();
      if (!field) { const r = document.createRange(); r.selectNodeContents(texts[0]);
        rect = r.getBoundingClientRect(); }
      if (rect.width < 1 || rect.height < 1) continue;
      const s = getComputedStyle(el);
      const svg = el instanceof SVGElement;
      const fg = parse(svg ? s.fill : s.color);
      if (!fg) continue;
      if (svg) fg[3] *= Number(s.fillOpacity || 1);
      const stack = document.elementsFromPoint(rect.left + rect.width / 2,
                                               rect.top + rect.height / 2);
      // under JupyterLab's own chrome (the status bar, a menu): not in view, not measured
      const covered = stack.length > 0 && !root.contains(stack[0]) && !stack[0].contains(el);
      const [bg, behind] = background(stack, el);
      const colour = fg[3] < 1 ? over(fg, bg) : fg;
      out.push({text: (field ? el.value : texts[0].textContent).trim().slice(0, 50),
                ratio: Math.round(ratio(colour, bg) * 100) / 100,
                colour: colour.slice(0, 3).map(Math.round).join(","),
                background: bg.slice(0, 3).map(Math.round).join(","),
                element: el.tagName.toLowerCase() + "." + (el.getAttribute("class") || ""),
                behind: behind.slice(0, 80),
                offscreen: covered || rect.bottom < 0 || rect.top > innerHeight});
    }
  }
  return out;
}
"""


def notebook(root: Path, name: str, cells: list[str]) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nbformat.write(nb, root / name)
    return name


