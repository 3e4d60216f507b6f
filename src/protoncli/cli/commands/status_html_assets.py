"""The style sheet and the script of `pcli status --html`'s page (`status_html.py`), inline.

The script reads the page's JSON block (`#fleet-data`), hides the table rows the filters leave
out, recounts the summary over the rows shown (as `status` counts: by version status, failed,
pending, orphaned) and dims the graph's nodes (and edges) of items hidden. It fetches nothing.
"""

from __future__ import annotations

PAGE_CSS = """\
:root{color-scheme:light;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0;padding:16px 24px;color:#1f2328;background:#f6f8fa}
h1{font-size:20px;margin:0 0 4px}
h1 .ws{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
h2{font-size:16px;margin:20px 0 8px}
.made,.hint{color:var(--muted);margin:0 0 12px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
section{margin-bottom:16px}
#shown{margin:0 0 6px}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:0}
.count{background:#fff;border:1px solid var(--line);border-radius:6px;padding:4px 10px}
.count dt{display:inline;color:var(--muted)}
.count dd{display:inline;margin:0 0 0 6px;font-weight:600}
.c-failed dd{color:#b71c1c}.c-pending dd{color:#b26a00}.c-behind_major dd{color:#e65100}
#filters{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:center;background:#fff;
 border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin-bottom:12px}
#filters input[type=search]{width:240px}
#filters select,#filters input,#filters button{font:inherit}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eaeef2;font-weight:600;font-size:12px;white-space:nowrap}
td{font-size:13px}
tr.item:hover{background:#f3f6fa}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;
 background:var(--fill);border:2px solid var(--border);vertical-align:-1px}
.ring{display:inline-block;width:14px;height:10px;border-radius:3px;border:3px solid;
 margin-right:6px;vertical-align:-1px}
.records details summary{cursor:pointer;white-space:nowrap}
.records ol{margin:4px 0 0;padding-left:18px;font-size:12px}
.records .failed{color:#b71c1c}.records .ok{color:#2e7d32}
.failure{color:#b71c1c;font-size:11px}
.error{color:#b71c1c}.none,.empty{color:var(--muted)}
.problems{background:#fff4f4;border:1px solid #f1aeb5;border-radius:6px;padding:4px 12px}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:12px;padding:0;margin:0 0 8px}
.graph{overflow:auto;background:#fff;border:1px solid var(--line);border-radius:6px}
#graph text{font-size:12px;fill:#1f2328}
#graph text.column{font-weight:600;fill:var(--muted)}
#graph tspan.first{font-weight:600}
#graph .edge path{fill:none;stroke:#6e7781;stroke-width:1.3}
#graph .edge text{font-size:11px;fill:#57606a;text-anchor:middle;paint-order:stroke;
 stroke:#fff;stroke-width:4px}
#graph .dim{opacity:.18}
"""

PAGE_SCRIPT = """\
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("fleet-data").textContent);
  var rows = data.resources, page = data.page;
  var field = function (id) { return document.getElementById(id); };
  var form = field("filters");
  var marks = ["behind", "failed", "pending", "orphaned"];
  var counted = ["total", "up_to_date", "behind_minor", "behind_major", "failed", "pending",
    "orphaned"];

  function chosen() {
    var wanted = {
      text: field("f-text").value.trim().toLowerCase(),
      env: field("f-env").value,
      kind: field("f-kind").value,
      blueprint: field("f-blueprint").value
    };
    marks.forEach(function (mark) { wanted[mark] = field("f-" + mark).checked; });
    return wanted;
  }

  function passes(i, wanted) {
    var row = rows[i], seen = page[i];
    if (wanted.text && wanted.text.split(/\\s+/).some(function (word) {
      return seen.search.indexOf(word) < 0;
    })) { return false; }
    if (wanted.env === "-" ? row.environment !== null
        : wanted.env && row.environment !== wanted.env) { return false; }
    if (wanted.kind && row.kind !== wanted.kind) { return false; }
    if (wanted.blueprint && row.blueprint !== wanted.blueprint) { return false; }
    if (wanted.behind && !seen.behind) { return false; }
    if (wanted.failed && !seen.failed) { return false; }
    if (wanted.pending && !row.pending) { return false; }
    if (wanted.orphaned && !row.orphaned) { return false; }
    return true;
  }

  function update() {
    var wanted = chosen(), counts = {}, lit = {};
    counted.forEach(function (key) { counts[key] = 0; });
    rows.forEach(function (row, i) {
      var shown = passes(i, wanted);
      var tr = document.getElementById("item-" + i);
      if (tr) { tr.hidden = !shown; }
      if (!shown) { return; }
      counts.total += 1;
      var status = (row.version_status || "").replace(/-/g, "_");
      if (status in counts && status !== "total") { counts[status] += 1; }
      if (page[i].failed) { counts.failed += 1; }
      if (row.pending) { counts.pending += 1; }
      if (row.orphaned) { counts.orphaned += 1; }
      if (page[i].node) { lit[page[i].node] = true; }
    });
    counted.forEach(function (key) {
      document.querySelectorAll("[data-count='" + key + "']").forEach(function (el) {
        el.textContent = String(counts[key]);
      });
    });
    var none = field("none-shown");
    if (none) { none.hidden = counts.total > 0 || rows.length === 0; }
    document.querySelectorAll("#graph .node").forEach(function (node) {
      node.classList.toggle("dim", !lit[node.getAttribute("data-node")]);
    });
    document.querySelectorAll("#graph .edge").forEach(function (edge) {
      var both = lit[edge.getAttribute("data-source")] && lit[edge.getAttribute("data-target")];
      edge.classList.toggle("dim", !both);
    });
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function () { window.setTimeout(update, 0); });
  update();
}());
"""
