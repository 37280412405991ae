"""The sweep dashboard's trial table: a small anywidget that the browser sorts.

The kernel sends the rows (``sweep_model.rows``: each cell's text and the raw values it
sorts by) when they change; a click on a heading sorts them in the browser, by the same
rule as ``sweep_model.sort_rows`` (numbers before text, blanks last), so sorting works
while the kernel is busy (a ``--wait`` cell) and costs no message.  The best trial's row
is bold and starred.  A row's *open* button sends one message, ``{"open": JOB}``: the
view opens that trial's own dashboard.  Nothing is written back to the model, so the
flusher thread is the only writer of its traits.
"""

from __future__ import annotations

from functools import cache
from typing import Any

ESM = r"""
function key(v) {
  if (v === null || v === undefined || v === "" || (typeof v === "number" && isNaN(v)))
    return [2, 0];
  if (typeof v === "number") return [0, v];
  const n = Number(v);
  if (String(v).trim() !== "" && !isNaN(n)) return [0, n];
  return [1, String(v).toLowerCase()];
}
function compare(a, b) {
  if (a[0] !== b[0]) return a[0] - b[0];
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}
function cell(tag, text, cls) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (cls) el.className = cls;
  return el;
}
export default {
  render({ model, el }) {
    const view = { by: model.get("sort_by"), descending: model.get("descending") };
    const wrap = document.createElement("div");
    wrap.className = "smnb-sweep-scroll";
    el.appendChild(wrap);
    const draw = () => {
      const columns = model.get("columns");
      const rows = model.get("rows");
      const by = view.by;
      const filled = rows.filter(r => key(r.sort[by])[0] < 2);
      const blank = rows.filter(r => key(r.sort[by])[0] === 2);
      filled.sort((a, b) => compare(key(a.sort[by]), key(b.sort[by])) *
                            (view.descending ? -1 : 1));
      const table = document.createElement("table");
      table.className = "smnb-sweep-table";
      const head = table.createTHead().insertRow();
      head.appendChild(cell("th", "", "smnb-sweep-mark"));
      for (const c of columns) {
        const arrow = c.key === by ? (view.descending ? " ▼" : " ▲") : "";
        const th = cell("th", c.label + arrow, c.numeric ? "smnb-num" : "");
        th.dataset.key = c.key;
        th.title = "sort by " + c.label;
        th.setAttribute("aria-sort", c.key !== by ? "none" :
                        view.descending ? "descending" : "ascending");
        th.addEventListener("click", () => {
          if (view.by === c.key) view.descending = !view.descending;
          else { view.by = c.key;
                 view.descending = c.key === "objective" && model.get("best_high"); }
          draw();
        });
        head.appendChild(th);
      }
      head.appendChild(cell("th", ""));
      const body = table.createTBody();
      for (const r of filled.concat(blank)) {
        const tr = body.insertRow();
        tr.dataset.job = r.job;
        tr.dataset.status = r.status;
        if (r.best) tr.className = "smnb-best";
        tr.appendChild(cell("td", r.best ? "★" : "", "smnb-sweep-mark"));
        for (const c of columns) {
          const cls = [c.numeric ? "smnb-num" : "",
                       c.key === "status" && r.status === "Failed" ? "smnb-error" : "",
                       c.key === "note" ? "smnb-muted" : ""].filter(Boolean).join(" ");
          tr.appendChild(cell("td", r.cells[c.key] || "", cls));
        }
        const open = cell("button", "open", "jupyter-button smnb-open");
        open.title = "open " + r.job + "'s own dashboard";
        open.addEventListener("click", () => model.send({ open: r.job }));
        const td = document.createElement("td");
        td.appendChild(open);
        tr.appendChild(td);
      }
      wrap.replaceChildren(table);
    };
    model.on("change:rows", draw);
    model.on("change:columns", draw);
    draw();
  }
};
"""

CSS = """
.smnb-sweep-scroll { max-height: 22em; overflow: auto; }
.smnb-sweep-table { border-collapse: collapse; font-size: 12px; }
.smnb-sweep-table th, .smnb-sweep-table td { padding: 2px 10px; text-align: left;
  white-space: nowrap; }
.smnb-sweep-table th { cursor: pointer; position: sticky; top: 0; user-select: none;
  background: var(--jp-layout-color1, #fff); border-bottom: 1px solid
  var(--jp-border-color1, #d0d7de); }
.smnb-sweep-table .smnb-num { text-align: right; font-variant-numeric: tabular-nums; }
.smnb-sweep-table tr.smnb-best td { font-weight: 700; }
.smnb-sweep-table tr.smnb-best { box-shadow: inset 3px 0 0 var(--smnb-muted, #57606a); }
.smnb-sweep-table .smnb-open { height: 20px; line-height: 18px; padding: 0 8px;
  font-size: 11px; }
"""


@cache
def _table_class() -> type:
    import anywidget
    import traitlets

    class SweepTable(anywidget.AnyWidget):
        _esm = ESM
        _css = CSS
        columns = traitlets.List().tag(sync=True)
        rows = traitlets.List().tag(sync=True)
        sort_by = traitlets.Unicode("trial").tag(sync=True)  # the first sort of a view
        descending = traitlets.Bool(False).tag(sync=True)
        best_high = traitlets.Bool(True).tag(sync=True)  # the objective's better end

    return SweepTable


def sweep_table(**traits: Any) -> Any:
    """A new table widget (``columns``, ``rows``, ``best_high``: see :data:`ESM`)."""
    return _table_class()(**traits)
