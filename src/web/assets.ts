/** Static assets served by the service itself (no external CDN): the style sheet and one small script. */
import { FIELD_TYPE_LABELS } from "./pages/field_list.tsx";

export const APP_CSS = `
:root { --fg:#1d2733; --muted:#5a6878; --line:#d5dde6; --accent:#0b5cad; --accent-dark:#084a8c; --bg:#f6f8fa; --bad:#b00020; --bad-bg:#fdecee; --ok:#1b6e32; --ok-bg:#e8f5ec; --warn:#7a4d00; --warn-bg:#fff4e0; --focus:#f5a623; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust:100%; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
a:hover { color:var(--accent-dark); }
:focus-visible { outline:3px solid var(--focus); outline-offset:2px; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px 8px; z-index:10; }
.visually-hidden { position:absolute !important; width:1px; height:1px; padding:0; margin:-1px; overflow:hidden; clip:rect(0,0,0,0); white-space:nowrap; border:0; }
header.top { display:flex; flex-wrap:wrap; gap:8px 24px; align-items:center; padding:10px 20px; background:#12385f; color:#fff; }
header.top a { color:#fff; text-decoration:none; } header.top a:hover { text-decoration:underline; }
header.top .brand { font-weight:700; letter-spacing:.02em; }
header.top .tz { margin-left:auto; font-size:13px; opacity:.9; }
header.top .who { font-size:13px; display:flex; gap:10px; align-items:center; }
header.top .who form, header.top .who button { margin:0; line-height:inherit; font-size:13px; }
header.top .link-button { color:#fff; }
nav.crumbs { max-width:1100px; margin:12px auto 0; padding:0 20px; font-size:13px; }
nav.crumbs ol { list-style:none; margin:0; padding:0; display:flex; flex-wrap:wrap; }
nav.crumbs li + li::before { content:"›"; padding:0 8px; color:var(--muted); }
main { max-width:1100px; margin:12px auto 40px; padding:0 20px; }
main:focus { outline:none; }
h1 { font-size:22px; margin:8px 0 12px; }
h2 { font-size:18px; margin:24px 0 8px; }
h3 { font-size:16px; margin:16px 0 8px; }
code { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.92em; }
pre { background:#fff; border:1px solid var(--line); padding:10px 12px; overflow:auto; }
.lead { font-size:16px; }
.small { font-size:13px; } .muted { color:var(--muted); } .zone { color:var(--muted); font-size:.9em; }
.hash { word-break:break-all; }
.title-row { display:flex; flex-wrap:wrap; gap:12px; align-items:center; justify-content:space-between; }
.context-switch { display:flex; gap:8px; align-items:center; }
table.list { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); margin:8px 0 16px; }
table.list caption { text-align:left; font-weight:600; padding:6px 0; }
table.list th, table.list td { padding:7px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
table.list th { background:#eef2f6; font-weight:600; }
table.list tbody tr:hover { background:#f9fbfd; }
table.list.compact th, table.list.compact td { padding:4px 8px; font-size:14px; }
table.list.compact caption { font-size:13px; color:var(--muted); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.actions { white-space:nowrap; }
td.actions > * { margin-right:10px; }
table.facts { border-collapse:collapse; background:#fff; border:1px solid var(--line); min-width:60%; }
table.facts th { text-align:left; font-weight:600; background:#eef2f6; padding:6px 10px; width:12em; vertical-align:top; border-bottom:1px solid var(--line); }
table.facts td { padding:6px 10px; border-bottom:1px solid var(--line); }
.empty { padding:16px; background:#fff; border:1px dashed var(--line); color:var(--muted); }
.status { font-weight:600; }
.status-succeeded, .status-approved { color:var(--ok); }
.status-failed, .status-rejected, .status-interrupted { color:var(--bad); }
.status-succeeded_with_errors, .status-held, .status-waiting, .status-no_file { color:var(--warn); }
.status-queued, .status-running, .status-preview, .status-discarded, .status-empty { color:var(--muted); }
.on { color:var(--ok); font-weight:600; } .off { color:var(--bad); font-weight:600; }
.button { display:inline-block; padding:7px 14px; border:1px solid var(--accent); border-radius:4px; background:var(--accent); color:#fff; font:inherit; font-weight:600; text-decoration:none; cursor:pointer; line-height:1.3; }
.button:hover { background:var(--accent-dark); color:#fff; }
.button.secondary { background:#fff; color:var(--accent); }
.button.secondary:hover { background:#eef4fb; color:var(--accent-dark); }
.button.danger { background:var(--bad); border-color:var(--bad); }
.button.small { padding:3px 9px; font-size:13px; }
.link-button { background:none; border:0; padding:0; font:inherit; color:var(--accent); text-decoration:underline; cursor:pointer; }
form.inline { display:inline; }
.buttons { display:flex; flex-wrap:wrap; gap:10px; align-items:center; margin:16px 0; }
.notice { padding:10px 14px; border-left:5px solid var(--ok); background:var(--ok-bg); margin:12px 0; }
.notice-warn { border-color:var(--warn); background:var(--warn-bg); }
.notice-bad { border-color:var(--bad); background:var(--bad-bg); }
.hint { color:var(--muted); font-size:13px; margin:4px 0 0; }
.warning { color:var(--warn); background:var(--warn-bg); border-left:4px solid var(--warn); padding:6px 10px; font-size:13px; margin:6px 0 0; }
.message { padding:10px 14px; background:#fff; border:1px solid var(--line); }
.message-failed, .message-rejected, .message-interrupted { border-color:var(--bad); background:var(--bad-bg); }
.message-held, .message-waiting { border-color:var(--warn); background:var(--warn-bg); }
.error-summary { border:4px solid var(--bad); background:#fff; padding:12px 16px; margin:12px 0 20px; }
.error-summary:focus { outline:3px solid var(--focus); }
.error-summary h2 { margin:0 0 8px; font-size:18px; color:var(--bad); }
.error-summary ul { margin:0; padding-left:20px; }
.error-summary a { color:var(--bad); font-weight:600; }
.record-form fieldset { background:#fff; border:1px solid var(--line); border-radius:4px; margin:0 0 16px; padding:8px 16px 12px; }
.record-form legend { font-weight:700; padding:0 6px; }
.row { display:grid; grid-template-columns:minmax(160px, 260px) 1fr; gap:4px 16px; padding:8px 0; border-bottom:1px solid #eef2f6; }
.row:last-child { border-bottom:0; }
.row > label, .row > .label { font-weight:600; padding-top:6px; }
.row.has-error { border-left:4px solid var(--bad); padding-left:10px; margin-left:-14px; }
.row.check label { font-weight:400; }
.field-error { color:var(--bad); font-weight:600; margin:0 0 6px; }
.field-error .error-line { display:block; }
input[type=text], input[type=search], select, textarea { font:inherit; padding:6px 8px; border:1px solid #8a97a6; border-radius:3px; background:#fff; color:var(--fg); max-width:100%; }
input[type=text] { width:22em; } input.short { width:7em; } input.wide { width:32em; }
textarea { width:32em; font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
[aria-invalid=true] { border:2px solid var(--bad); }
input[type=checkbox] { width:18px; height:18px; vertical-align:-3px; margin:0 6px 0 0; }
.preview { margin-top:24px; padding:12px 16px; background:#fff; border:1px solid var(--line); border-radius:4px; }
.preview-result { margin-top:12px; }
.preview-result:focus { outline:none; }
dl.counts { display:flex; flex-wrap:wrap; gap:8px; margin:8px 0 16px; }
dl.counts .count { background:#fff; border:1px solid var(--line); border-radius:4px; padding:6px 12px; min-width:92px; }
dl.counts .count.attention { border-color:var(--warn); background:var(--warn-bg); }
dl.counts dt { font-size:12px; color:var(--muted); } dl.counts dd { margin:0; font-size:20px; font-weight:700; font-variant-numeric:tabular-nums; }
.held { border:2px solid var(--warn); background:var(--warn-bg); padding:8px 16px; margin:16px 0; }
.pager { display:flex; gap:16px; align-items:center; margin:8px 0 16px; }
.notes { background:#fff; border:1px solid var(--line); padding:8px 28px; }
.filters { display:flex; flex-wrap:wrap; gap:8px; align-items:center; margin:8px 0; }
dialog.field-list-dialog { width:min(720px, 94vw); max-height:84vh; border:1px solid var(--line); border-radius:6px; padding:12px 16px; box-shadow:0 10px 40px rgba(0,0,0,.25); }
dialog.field-list-dialog::backdrop { background:rgba(18,56,95,.35); }
.dialog-head { display:flex; justify-content:space-between; align-items:center; }
.dialog-head h2 { margin:0; }
dialog #field-filter { width:100%; margin:4px 0; }
ul.field-items { list-style:none; margin:0; padding:0; max-height:55vh; overflow:auto; border-top:1px solid var(--line); }
ul.field-items li { border-bottom:1px solid var(--line); }
ul.field-items button { display:block; width:100%; text-align:left; background:#fff; border:0; padding:6px 8px; font:inherit; cursor:pointer; }
ul.field-items button:hover, ul.field-items button:focus-visible { background:#eef4fb; }
ul.field-items code { font-weight:700; color:var(--accent-dark); }
ul.field-items .desc { display:block; color:var(--muted); font-size:13px; }
/* Field List pop-up and page: several picks, each field's facts, added marks. */
.dialog-head { gap:12px; }
ul.field-items .facts { display:flex; flex-wrap:wrap; gap:4px 6px; margin:2px 0; }
ul.field-items .fact { font-size:12px; border:1px solid var(--line); border-radius:3px; padding:0 5px; background:#f6f8fa; color:var(--fg); }
ul.field-items .added-mark { font-size:12px; font-weight:700; color:var(--ok); }
ul.field-items .added-mark::before { content:"✓ "; }
ul.field-items button.added { background:var(--ok-bg); }
/* Phone and keyboard: no page scrolls sideways at 390 px (wide tables scroll in their own
   .table-scroll box), long names and paths wrap, and targets are at least 24×24 px. */
.table-scroll { position:relative; max-width:100%; overflow-x:auto; margin:8px 0 16px; }
.table-scroll > table.list { margin:0; }
.table-scroll:focus-visible { outline:3px solid var(--focus); outline-offset:2px; }
main { overflow-wrap:break-word; }
fieldset { min-width:0; }
main a:not(.button), nav.crumbs a, header.top a, .link-button, .skip { padding-top:3px; padding-bottom:3px; }
td.actions a, .pager a, nav.crumbs a, header.top a, .link-button { display:inline-block; min-height:24px; }
td.actions a, td.actions .button.small, table.list td a { min-width:24px; }
table.list td a { display:inline-block; min-height:24px; }
nav.crumbs ol { align-items:baseline; }
input[type=checkbox], input[type=radio] { width:24px; height:24px; vertical-align:-6px; }
input[type=password] { font:inherit; padding:6px 8px; border:1px solid #8a97a6; border-radius:3px; background:#fff; color:var(--fg); max-width:100%; }
.sort-order { display:block; font-weight:400; }
.button.small { min-height:24px; }
@media (max-width: 700px) {
  header.top { padding:8px 12px; gap:4px 16px; }
  header.top .tz { margin-left:0; }
  nav.crumbs, main { padding:0 12px; }
  .context-switch { flex-wrap:wrap; }
  table.facts { min-width:0; width:100%; }
  table.facts th { width:auto; }
  input[type=text], input.wide, textarea, select { max-width:100%; }
  .row > * { min-width:0; }
  main pre { white-space:pre-wrap; }
  /* table.cards (the setup list): each row becomes a card, each cell a labelled line. */
  table.cards thead { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0,0,0,0); }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display:block; }
  table.cards tr { padding:8px 0; border-bottom:1px solid var(--line); }
  table.cards td { border:0; padding:2px 12px; }
  table.cards td.card-title { font-size:16px; font-weight:600; }
  table.cards td[data-label]::before { content:attr(data-label) ": "; font-weight:600; color:var(--muted); }
  table.cards td.actions { white-space:normal; padding-top:6px; }
  :not(.table-scroll) > table td code, :not(.table-scroll) > table td .hash { overflow-wrap:anywhere; }
}
[hidden] { display:none !important; }
/* Safer approvals (ux): the confirmation of a held run's Approve and Discard. */
.approval-words { font-size:17px; font-weight:600; border-left:4px solid var(--warn); background:var(--warn-bg); padding:8px 12px; }
ol.keys { background:#fff; border:1px solid var(--line); padding:8px 8px 8px 56px; columns:14em auto; column-gap:24px; }
ol.keys li { break-inside:avoid; }
form.confirm { margin:16px 0; }
/* Trends (ux): a record's last runs as a server-rendered SVG chart. */
.trend { background:#fff; border:1px solid var(--line); padding:8px 12px; margin:12px 0; max-width:100%; }
.trend svg { display:block; width:100%; height:auto; max-width:860px; }
.trend h2 { margin:0 0 4px; font-size:17px; }
.trend .scroll { overflow-x:auto; }
.trend svg.narrow { display:none; }
@media (max-width: 600px) { .trend svg.wide { display:none; } .trend svg.narrow { display:block; } }
.trend svg text { font:12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill:var(--fg); }
.trend svg .name { font-weight:700; } .trend svg .scale, .trend svg .axis { fill:var(--muted); font-size:11px; }
.trend svg .latest { font-weight:700; font-variant-numeric:tabular-nums; }
.trend svg .bar { fill:var(--accent); } .trend svg .base { stroke:var(--line); stroke-width:1; }
.trend svg .symbol { font-size:11px; }
.trend .legend { font-size:13px; color:var(--muted); margin:4px 0; }
.trend details { margin-top:6px; }
@media (max-width: 700px) {
  .row { grid-template-columns:1fr; }
  input[type=text], input.wide, textarea { width:100%; }
  table.list { font-size:13px; }
}
`;

/** The tab icon: a small arrow into a tray, in the header's blue. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#12385f"/>
<path d="M16 6v13m-5-5 5 5 5-5M8 20v5h16v-5" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/>
</svg>`;

/**
 * Enhancements of the record form: the Field List pop-up (catalog from
 * `/api/v1/catalog/{table}`, a filter box matching every word, each field's type,
 * maximum length and flags; a click appends the field to the list and marks it as
 * added, the pop-up stays open until Done or Escape, then focus returns to the list),
 * and showing only the rows that apply (attendance mode, managed connection).
 * Without it the form still works: fields are typed and the Field List link opens
 * the field-list page.
 */
export const APP_JS = `"use strict";
(function () {
  var form = document.querySelector("form.record-form");
  if (!form) return;
  var table = document.getElementById("f-table");
  var mode = document.getElementById("f-attendanceMode");
  var modeRow = document.getElementById("row-attendanceMode");
  var source = document.getElementById("f-source");
  var connRow = document.getElementById("row-connectionId");
  var link = document.querySelector("[data-field-list]");
  var dialog = document.getElementById("field-list");
  var filter = document.getElementById("field-filter");
  var list = document.getElementById("field-list-items");
  var status = document.getElementById("field-list-status");
  var textarea = document.getElementById("f-fields");
  var title = document.getElementById("field-list-title");
  var fields = [];
  var loadedFor = "";

  function currentMode() { return table && table.value === "attendance" && mode && mode.value ? mode.value : "daily"; }
  function label() { return table ? table.options[table.selectedIndex].text : "Students"; }
  function sync() {
    if (modeRow && table) modeRow.hidden = table.value !== "attendance";
    if (connRow && source) connRow.hidden = source.value !== "managed";
    if (link && table) {
      link.textContent = "Field List (" + label() + ")";
      link.href = "/fields/" + encodeURIComponent(table.value) + "?mode=" + currentMode();
    }
  }
  if (table) table.addEventListener("change", sync);
  if (mode) mode.addEventListener("change", sync);
  if (source) source.addEventListener("change", sync);
  sync();

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  if (!link || !dialog || typeof dialog.showModal !== "function") return;

  // Field List pop-up: stays open for several picks; Done or Escape closes it.
  var TYPES = ${JSON.stringify(FIELD_TYPE_LABELS)};
  function typeText(f) {
    return (TYPES[f.type] || f.type) + (f.maxLength ? ", max " + f.maxLength : "") +
      (f.codes ? ": " + f.codes.join(", ") : "");
  }
  function flagTexts(f) {
    return [f.key ? "Match key" : "", f.requiredToCreate ? "Needed to create" : "", f.personal ? "Personal" : ""].filter(Boolean);
  }
  function listed() {
    return textarea.value.split(/\\r?\\n/).map(function (s) { return s.trim().toLowerCase(); }).filter(Boolean);
  }
  function markAdded(b) {
    if (b.classList.contains("added")) return;
    b.classList.add("added");
    var mark = document.createElement("span");
    mark.className = "added-mark";
    mark.textContent = "Added";
    b.querySelector(".facts").append(mark);
  }
  function item(f, added) {
    var li = document.createElement("li");
    var b = document.createElement("button");
    b.type = "button";
    b.dataset.field = f.name;
    var code = document.createElement("code");
    code.textContent = f.name;
    var facts = document.createElement("span");
    facts.className = "facts";
    [typeText(f)].concat(flagTexts(f)).forEach(function (t) {
      var one = document.createElement("span");
      one.className = "fact";
      one.textContent = t;
      facts.append(one);
    });
    var desc = document.createElement("span");
    desc.className = "desc";
    desc.textContent = f.description;
    b.append(code, facts, desc);
    if (added) markAdded(b);
    b.addEventListener("click", function () { add(f.name); });
    li.append(b);
    return li;
  }
  function render() {
    var terms = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var have = listed();
    var shown = fields.filter(function (f) {
      var text = (f.name + " " + f.description).toLowerCase();
      return terms.every(function (t) { return text.indexOf(t) >= 0; });
    });
    list.replaceChildren();
    shown.forEach(function (f) { list.append(item(f, have.indexOf(f.name.toLowerCase()) >= 0)); });
    status.textContent = shown.length + " of " + fields.length + " fields";
  }

  function add(name) {
    if (listed().indexOf(name.toLowerCase()) >= 0) {
      status.textContent = name + " is already in the field list.";
      return;
    }
    var value = textarea.value.replace(/\\s+$/, "");
    textarea.value = value === "" ? name : value + "\\n" + name;
    list.querySelectorAll("button").forEach(function (b) { if (b.dataset.field === name) markAdded(b); });
    status.textContent = name + " added as field " + listed().length + ".";
  }

  link.addEventListener("click", function (event) {
    event.preventDefault();
    var key = (table ? table.value : "students") + ":" + currentMode();
    title.textContent = label() + " Field List";
    filter.value = "";
    dialog.showModal();
    filter.focus();
    if (loadedFor === key) { render(); return; }
    status.textContent = "Loading fields…";
    list.replaceChildren();
    fetch("/api/v1/catalog/" + encodeURIComponent(key.split(":")[0]) + "?mode=" + key.split(":")[1], {
      credentials: "same-origin",
      headers: { accept: "application/json" },
    }).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    }).then(function (catalog) {
      fields = catalog.fields;
      loadedFor = key;
      render();
    }).catch(function () {
      dialog.close();
      window.open(link.href, "_blank", "noopener");
    });
  });

  filter.addEventListener("input", render);
  filter.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      var first = list.querySelector("button");
      if (first) first.click();
      filter.select();
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      var firstButton = list.querySelector("button");
      if (firstButton) firstButton.focus();
    }
  });
  list.addEventListener("keydown", function (event) {
    var items = Array.prototype.slice.call(list.querySelectorAll("button"));
    var i = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && i < items.length - 1) { event.preventDefault(); items[i + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (i > 0 ? items[i - 1] : filter).focus(); }
  });
  dialog.querySelector("[data-close]").addEventListener("click", function () { dialog.close(); });
  // Escape closes the pop-up, also from the filter box (where a search field would only clear).
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); dialog.close(); }
  });
  dialog.addEventListener("close", function () {
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  });
})();
`;

/**
 * Runs overview and live progress (`/runs`, a run under way): the summary boxes, the
 * filter form, the runs table scrolling inside its own box on a narrow screen, the
 * progress panel.
 */
export const OVERVIEW_CSS = `
header.top nav { display:flex; flex-wrap:wrap; gap:4px 18px; }
.day-summary .summary-grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(190px, 1fr)); gap:12px; }
.summary-box { background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px 12px; }
.summary-box h3 { margin:0 0 6px; font-size:15px; }
.summary-box p { margin:0; }
ul.plain { list-style:none; margin:0; padding:0; }
ul.plain li { padding:3px 0; }
ul.plain a { display:inline-block; min-height:24px; }
.run-filters { background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px 12px; margin:8px 0 12px; }
.run-filters fieldset.statuses { border:0; margin:0; padding:0; display:flex; flex-wrap:wrap; gap:2px 14px; }
.run-filters legend { font-weight:600; padding:0; margin-bottom:4px; }
.run-filters label.check { display:inline-flex; align-items:center; gap:4px; min-height:24px; }
.run-filters .filter-fields { display:flex; flex-wrap:wrap; gap:8px 14px; margin:8px 0; }
.run-filters .filter-fields label { display:flex; flex-direction:column; font-size:14px; gap:2px; }
.table-scroll { overflow-x:auto; max-width:100%; }
.table-scroll:focus-visible { outline:3px solid var(--focus); }
table.runs-overview td, table.runs-overview th { white-space:nowrap; }
.run-progress { background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px 12px; margin:12px 0; }
.run-progress h2 { margin-top:0; }
.run-progress progress { width:100%; height:18px; }
.progress-facts { display:flex; flex-wrap:wrap; gap:4px 28px; margin:8px 0; }
.progress-facts dt { font-size:13px; color:var(--muted); }
.progress-facts dd { margin:0; font-weight:600; }
`;

/**
 * Live progress of runs under way: every element with `data-progress-run="<id>"` is
 * updated from `GET /runs/<id>/progress` every two seconds — its `data-field` children
 * (`short`, `stage`, `rows`, `bytes`, `bar`) get the new numbers. When the run has ended,
 * a run page (`data-reload-when-done`) reloads to show its report; a list entry shows
 * the final status. Served by the service (the pages' policy allows no inline script).
 */
export const PROGRESS_JS = `"use strict";
(function () {
  var watched = Array.prototype.slice.call(document.querySelectorAll("[data-progress-run]"));
  if (watched.length === 0 || !window.fetch) return;
  function set(el, field, text) {
    var target = el.querySelector('[data-field="' + field + '"]');
    if (target) target.textContent = text;
  }
  function update(el, data) {
    if (!data.active) {
      el.removeAttribute("data-progress-run");
      if (el.hasAttribute("data-reload-when-done")) { window.location.reload(); return; }
      el.textContent = data.statusLabel;
      return;
    }
    set(el, "short", data.short);
    var p = data.progress;
    if (!p) return;
    set(el, "stage", data.stageLabel);
    set(el, "rows", p.rowsRead.toLocaleString("en-US"));
    set(el, "bytes", data.bytesText);
    var bar = el.querySelector('[data-field="bar"]');
    if (bar && p.percent !== null) { bar.value = p.percent; bar.textContent = p.percent + " %"; }
  }
  function poll() {
    var left = watched.filter(function (el) { return el.hasAttribute("data-progress-run"); });
    if (left.length === 0) return;
    Promise.all(left.map(function (el) {
      return fetch("/runs/" + encodeURIComponent(el.getAttribute("data-progress-run")) + "/progress", {
        credentials: "same-origin",
        headers: { accept: "application/json" },
      }).then(function (res) {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      }).then(function (data) { update(el, data); }).catch(function () {});
    })).then(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 1000);
})();
`;
