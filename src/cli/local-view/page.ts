/**
 * The local view's web page: plain HTML, CSS and browser JavaScript, served as they are by
 * `web-server.ts` (no framework, no build step). The script polls `/api/traces` and draws the
 * list, the selected trace's waterfall and the service map.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>otel-lambda-xray local view</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<header>
  <h1>otel-lambda-xray <span>local X-Ray view</span></h1>
  <p id="status">waiting for traces…</p>
</header>
<main>
  <section id="traces-panel">
    <h2>Traces</h2>
    <table id="traces">
      <thead><tr><th>Time</th><th>Entry</th><th>Request</th><th>Duration</th><th>Status</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="detail-panel">
    <h2 id="trace-title">Timeline</h2>
    <div id="waterfall" class="empty">Select a trace.</div>
    <pre id="document" hidden></pre>
    <h2>Service map</h2>
    <div id="service-map" class="empty">No services yet.</div>
  </section>
</main>
<script src="/app.js"></script>
</body>
</html>
`;

export const PAGE_STYLE = `
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #16191f; background: #f2f3f3; }
header { display: flex; align-items: baseline; gap: 24px; padding: 10px 20px; background: #232f3e; color: #fff; }
header h1 { margin: 0; font-size: 17px; }
header h1 span { font-weight: normal; color: #ff9900; }
header p { margin: 0; color: #d5dbdb; }
main { display: grid; grid-template-columns: minmax(380px, 2fr) 3fr; gap: 16px; padding: 16px 20px; }
section { background: #fff; border: 1px solid #d5dbdb; border-radius: 6px; padding: 12px 14px; overflow: hidden; }
h2 { font-size: 14px; margin: 4px 0 10px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 5px 6px; border-bottom: 1px solid #eaeded; white-space: nowrap; }
th { color: #545b64; font-weight: 600; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: #f1faff; }
tbody tr.selected { background: #e6f2ff; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px; font-weight: 600; }
.badge.ok { background: #e9f6e9; color: #1d8102; }
.badge.fault { background: #fde8e8; color: #d13212; }
.badge.error { background: #fef5e6; color: #b35c00; }
.empty { color: #687078; padding: 8px 0; }
.row { display: grid; grid-template-columns: 300px 1fr 80px; align-items: center; gap: 8px; padding: 3px 0; border-bottom: 1px solid #f2f3f3; cursor: pointer; }
.row:hover { background: #f8f8f8; }
.row .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.row .name small { color: #687078; margin-left: 6px; }
.row .kind { font-size: 10px; color: #fff; border-radius: 3px; padding: 0 4px; margin-right: 4px; background: #879596; }
.row .kind.segment { background: #0073bb; }
.row .kind.remote { background: #8c4fff; }
.row .kind.aws { background: #ec7211; }
.track { position: relative; height: 16px; background: #f7f7f7; border-radius: 2px; }
.bar { position: absolute; top: 2px; height: 12px; min-width: 2px; border-radius: 2px; background: #44b9d6; }
.bar.segment { background: #0073bb; }
.bar.fault { background: #d13212; }
.bar.error { background: #ff9900; }
.duration { text-align: right; color: #545b64; font-variant-numeric: tabular-nums; }
.label { grid-column: 1 / -1; color: #687078; font-size: 11px; margin: -2px 0 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
pre { background: #f7f7f7; border: 1px solid #eaeded; padding: 8px; max-height: 260px; overflow: auto; font-size: 11px; }
svg text { font: 12px system-ui, sans-serif; }
svg .node circle { fill: #fff; stroke: #1d8102; stroke-width: 3; }
svg .node.fault circle { stroke: #d13212; }
svg .node.error circle { stroke: #ff9900; }
svg .node.client circle { stroke: #879596; }
svg .edge { stroke: #879596; stroke-width: 1.5; fill: none; marker-end: url(#arrow); }
`;

export const PAGE_SCRIPT = `'use strict';
var selected = null;
var lastList = '';

function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (key) {
    if (key === 'text') node.textContent = attrs[key];
    else if (key === 'className') node.className = attrs[key];
    else node.setAttribute(key, attrs[key]);
  });
  (children || []).forEach(function (child) { node.appendChild(child); });
  return node;
}

function ms(value) {
  return value === undefined || value === null ? 'in progress' : value.toFixed(1) + ' ms';
}

function badge(summary) {
  if (summary.fault) return el('span', { className: 'badge fault', text: 'Fault' });
  if (summary.error) return el('span', { className: 'badge error', text: 'Error' });
  return el('span', { className: 'badge ok', text: 'OK' });
}

function getJson(path) {
  return fetch(path, { cache: 'no-store' }).then(function (response) { return response.json(); });
}

function refresh() {
  getJson('/api/traces').then(function (traces) {
    var text = JSON.stringify(traces);
    if (text === lastList) return;
    lastList = text;
    document.getElementById('status').textContent = traces.length + ' trace' + (traces.length === 1 ? '' : 's');
    var body = document.querySelector('#traces tbody');
    body.replaceChildren();
    traces.forEach(function (summary) {
      var row = el('tr', { 'data-trace-id': summary.traceId }, [
        el('td', { text: new Date(summary.startTime * 1000).toLocaleTimeString() }),
        el('td', { text: summary.name }),
        el('td', { text: summary.operation }),
        el('td', { text: ms(summary.durationMs) }),
        el('td', {}, [badge(summary)]),
      ]);
      if (summary.traceId === selected) row.className = 'selected';
      row.addEventListener('click', function () { select(summary.traceId); });
      body.appendChild(row);
    });
    if (traces.length > 0 && (selected === null || !traces.some(function (t) { return t.traceId === selected; }))) {
      select(traces[0].traceId);
    } else if (selected !== null) {
      select(selected);
    }
    drawMap();
  }).catch(function () {
    document.getElementById('status').textContent = 'the local view stopped';
  });
}

function select(traceId) {
  selected = traceId;
  document.querySelectorAll('#traces tbody tr').forEach(function (row) {
    row.className = row.getAttribute('data-trace-id') === traceId ? 'selected' : '';
  });
  getJson('/api/traces/' + traceId).then(drawWaterfall);
}

function drawWaterfall(trace) {
  document.getElementById('trace-title').textContent = 'Timeline of ' + trace.traceId;
  var holder = document.getElementById('waterfall');
  holder.className = '';
  holder.replaceChildren();
  var total = 0;
  trace.rows.forEach(function (row) {
    total = Math.max(total, row.offsetMs + (row.durationMs || 0));
  });
  total = total || 1;
  trace.rows.forEach(function (row) {
    var status = row.fault ? 'fault' : row.error ? 'error' : '';
    var bar = el('div', { className: 'bar ' + (row.kind === 'segment' ? 'segment ' : '') + status });
    bar.style.left = (100 * row.offsetMs / total) + '%';
    bar.style.width = (100 * (row.durationMs || 0) / total) + '%';
    var name = el('div', { className: 'name' }, [el('span', { className: 'kind ' + row.kind, text: row.kind })]);
    name.appendChild(document.createTextNode(row.name));
    if (status) name.appendChild(el('small', { text: status }));
    name.style.paddingLeft = (row.depth * 14) + 'px';
    var line = el('div', { className: 'row', 'data-id': row.id }, [
      name,
      el('div', { className: 'track' }, [bar]),
      el('div', { className: 'duration', text: ms(row.durationMs) }),
    ]);
    if (row.label) line.appendChild(el('div', { className: 'label', text: row.label }));
    line.addEventListener('click', function () {
      var pre = document.getElementById('document');
      pre.hidden = false;
      pre.textContent = JSON.stringify(row.document, null, 2);
    });
    holder.appendChild(line);
  });
}

function drawMap() {
  getJson('/api/map').then(function (map) {
    var holder = document.getElementById('service-map');
    if (map.nodes.length === 0) return;
    holder.className = '';
    var depth = {};
    map.nodes.forEach(function (node) { depth[node.name] = node.type === 'client' ? 0 : 1; });
    // Longest path from the client: each edge pushes its target one column right.
    for (var pass = 0; pass < map.nodes.length; pass++) {
      map.edges.forEach(function (edge) {
        if (edge.from !== edge.to && depth[edge.to] <= depth[edge.from] && depth[edge.from] < map.nodes.length) {
          depth[edge.to] = depth[edge.from] + 1;
        }
      });
    }
    var columns = {};
    map.nodes.forEach(function (node) {
      (columns[depth[node.name]] = columns[depth[node.name]] || []).push(node);
    });
    var place = {};
    var width = 40, height = 0;
    Object.keys(columns).sort(function (a, b) { return a - b; }).forEach(function (column) {
      columns[column].forEach(function (node, index) {
        place[node.name] = { x: 70 + column * 190, y: 50 + index * 90 };
        width = Math.max(width, 70 + column * 190 + 120);
        height = Math.max(height, 50 + index * 90 + 60);
      });
    });
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    svg.innerHTML = '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#879596"/></marker></defs>';
    map.edges.forEach(function (edge) {
      var a = place[edge.from], b = place[edge.to];
      if (!a || !b) return;
      var dx = b.x - a.x, dy = b.y - a.y, length = Math.sqrt(dx * dx + dy * dy) || 1;
      var line = document.createElementNS(ns, 'line');
      line.setAttribute('class', 'edge');
      line.setAttribute('x1', a.x + 26 * dx / length);
      line.setAttribute('y1', a.y + 26 * dy / length);
      line.setAttribute('x2', b.x - 28 * dx / length);
      line.setAttribute('y2', b.y - 28 * dy / length);
      svg.appendChild(line);
    });
    map.nodes.forEach(function (node) {
      var p = place[node.name];
      var group = document.createElementNS(ns, 'g');
      var status = node.type === 'client' ? 'client' : node.faults > 0 ? 'fault' : node.errors > 0 ? 'error' : '';
      group.setAttribute('class', 'node ' + status);
      group.setAttribute('data-node', node.name);
      var circle = document.createElementNS(ns, 'circle');
      circle.setAttribute('cx', p.x);
      circle.setAttribute('cy', p.y);
      circle.setAttribute('r', 24);
      group.appendChild(circle);
      var label = document.createElementNS(ns, 'text');
      label.setAttribute('x', p.x);
      label.setAttribute('y', p.y + 40);
      label.setAttribute('text-anchor', 'middle');
      label.textContent = node.name;
      group.appendChild(label);
      var stats = document.createElementNS(ns, 'text');
      stats.setAttribute('x', p.x);
      stats.setAttribute('y', p.y + 4);
      stats.setAttribute('text-anchor', 'middle');
      stats.textContent = node.type === 'client' ? node.requests : Math.round(node.averageMs) + 'ms';
      group.appendChild(stats);
      var title = document.createElementNS(ns, 'title');
      title.textContent = node.name + ' (' + node.type + '): ' + node.requests + ' requests, ' + node.faults + ' faults, ' + node.errors + ' errors';
      group.appendChild(title);
      svg.appendChild(group);
    });
    holder.replaceChildren(svg);
  });
}

refresh();
setInterval(refresh, 1000);
`;
