//! The inline style and script of the HTML report (no external file, font or library).

/// System fonts only; tables scroll sideways on narrow screens; significant rows tinted.
pub(crate) const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  margin: 0 auto; max-width: 1200px; padding: 0 16px 48px; color: #1a1a1a; line-height: 1.45; }
header h1 { margin: 20px 0 4px; font-size: 1.6em; }
.meta { color: #555; margin: 0 0 8px; }
nav { position: sticky; top: 0; background: #fff; padding: 8px 0; border-bottom: 1px solid #ddd; z-index: 1; }
nav a { color: #1f5fa8; text-decoration: none; }
h2 { margin-top: 32px; border-bottom: 1px solid #eee; padding-bottom: 4px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
dl.facts dt { color: #555; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; display: block; overflow-x: auto; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e5e5e5; text-align: right; white-space: nowrap; }
th:nth-child(-n+4), td:nth-child(-n+4) { text-align: left; }
table.plain th, table.plain td { text-align: left; }
table.sortable th { cursor: pointer; user-select: none; background: #f6f6f6; position: relative; }
th[aria-sort="ascending"]::after { content: " \25B2"; }
th[aria-sort="descending"]::after { content: " \25BC"; }
tr.sig td { background: #fff4d6; }
.stars { color: #b2182b; font-weight: bold; margin-left: 2px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.caption { color: #444; font-size: 0.92em; }
.warning { background: #fff0f0; border-left: 4px solid #c62828; padding: 6px 10px; }
figure { margin: 16px 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
figure svg { width: 100%; height: auto; max-width: 1000px; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
pre.error { white-space: pre-wrap; max-width: 520px; margin: 0; padding: 4px; text-align: left; }
details summary { cursor: pointer; font-weight: 600; margin: 6px 0; }
"#;

/// Sorting by header click or by `#sort=TABLE:COLUMN:asc|desc`; records script errors and
/// readiness on `<body>` for headless checks.
pub(crate) const SCRIPT: &str = r#"
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push(String(e.message));
    document.body.setAttribute("data-errors", errors.join(" | "));
  });
  function key(cell, numeric) {
    if (!cell) return null;
    if (numeric) {
      var v = cell.getAttribute("data-v");
      return v === null ? null : parseFloat(v);
    }
    return cell.textContent.trim();
  }
  function sortTable(table, col, dir) {
    var th = table.tHead.rows[0].cells[col];
    if (!th) return;
    var numeric = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
      // undefined values last, whichever the direction
      if (x === null || y === null) return (x === null) - (y === null);
      var c = numeric ? x - y : x.localeCompare(y);
      return dir === "desc" ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", dir === "desc" ? "descending" : "ascending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? "desc" : "asc";
        sortTable(table, col, dir);
      });
    });
  });
  var m = /sort=([^:&]+):(\d+):(asc|desc)/.exec(decodeURIComponent(location.hash));
  if (m) {
    var t = document.getElementById(m[1]);
    if (t) sortTable(t, parseInt(m[2], 10), m[3]);
  }
  document.body.setAttribute("data-ready", "1");
})();
"#;
