/** Static assets served by the service itself (no external CDN). */
export const APP_CSS = `
:root { --fg:#1d2733; --muted:#5a6878; --line:#d5dde6; --accent:#0b5cad; --bg:#f6f8fa; --bad:#b00020; --ok:#1b6e32; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
:focus-visible { outline:3px solid #f5a623; outline-offset:2px; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px 8px; }
header.top { display:flex; gap:24px; align-items:center; padding:10px 20px; background:#12385f; color:#fff; }
header.top a { color:#fff; text-decoration:none; } header.top .brand { font-weight:700; }
header.top .tz { margin-left:auto; font-size:13px; opacity:.85; }
main { max-width:1100px; margin:20px auto; padding:0 20px; }
h1 { font-size:22px; margin:0 0 12px; }
table.list { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
table.list th, table.list td { padding:7px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
table.list th { background:#eef2f6; font-weight:600; }
.empty { padding:16px; background:#fff; border:1px dashed var(--line); color:var(--muted); }
.status-succeeded { color:var(--ok); } .status-failed, .status-rejected, .status-interrupted { color:var(--bad); }
.muted { color:var(--muted); }
`;
