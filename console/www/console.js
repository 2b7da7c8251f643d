/* flowkit console: pages over the JSON API of flowkit-collect --http
 * (docs/console.md). A bearer token, when the server wants one, is given
 * once in the URL fragment (#token=...) and kept in sessionStorage. */
'use strict';

const state = { token: null, charts: {}, feed: null, timer: null };

function takeToken() {
  const m = location.hash.match(/[#&]token=([^&]+)/);
  if (m) {
    sessionStorage.setItem('flowkit-token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + '#overview');
  }
  state.token = sessionStorage.getItem('flowkit-token');
}

async function api(path, params) {
  const q = new URLSearchParams(params || {});
  const res = await fetch('/api/v1/' + path + (q.toString() ? '?' + q : ''),
    { headers: state.token ? { Authorization: 'Bearer ' + state.token } : {} });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

function human(n) {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function ipLink(addr) {
  const a = el('a', { href: '#ip=' + encodeURIComponent(addr), class: 'addr' }, addr);
  return a;
}

/* columns: [title, key, kind] with kind 'addr', 'bytes', 'num' or 'text' */
function fillTable(id, columns, rows) {
  const t = document.getElementById(id);
  const head = t.tHead, body = t.tBodies[0];
  head.textContent = '';
  body.textContent = '';
  const hr = head.insertRow();
  columns.forEach(([title, , kind], i) => {
    const th = el('th', { class: kind === 'bytes' || kind === 'num' ? 'num' : '' }, title);
    th.addEventListener('click', () => sortBy(t, i));
    hr.appendChild(th);
  });
  for (const r of rows) {
    const tr = body.insertRow();
    for (const [, key, kind] of columns) {
      const v = typeof key === 'function' ? key(r) : r[key];
      const td = tr.insertCell();
      td.dataset.key = typeof key === 'string' ? key : '';
      if (kind === 'addr') { td.appendChild(ipLink(v)); td.dataset.sort = v; }
      else if (kind === 'bytes') { td.className = 'num'; td.dataset.sort = v; td.dataset.bytes = v; td.textContent = human(v); }
      else if (kind === 'num') { td.className = 'num'; td.dataset.sort = v; td.textContent = v; }
      else { td.textContent = v === undefined ? '' : v; td.dataset.sort = td.textContent; }
    }
  }
}

function sortBy(table, col) {
  const body = table.tBodies[0];
  const dir = table.dataset.sortCol == col && table.dataset.sortDir === 'desc' ? 'asc' : 'desc';
  table.dataset.sortCol = col;
  table.dataset.sortDir = dir;
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
    const nx = Number(x), ny = Number(y);
    const c = !isNaN(nx) && !isNaN(ny) ? nx - ny : String(x).localeCompare(String(y));
    return dir === 'asc' ? c : -c;
  });
  rows.forEach(r => body.appendChild(r));
}

function lineChart(id, points, step) {
  const labels = points.map(p => new Date(p.t).toISOString().substr(11, 5));
  const data = points.map(p => p.bytes / step);
  if (typeof Chart === 'undefined') return; /* the page works without the chart */
  if (state.charts[id]) state.charts[id].destroy();
  state.charts[id] = new Chart(document.getElementById(id), {
    type: 'line',
    data: { labels, datasets: [{ label: 'bytes/s', data, fill: true, pointRadius: 0,
                                  borderColor: '#2f7fd8', backgroundColor: 'rgba(47,127,216,.15)' }] },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
               scales: { y: { beginAtZero: true } } }
  });
}

const topColumns = {
  src: [['Source', 'addr', 'addr']], dst: [['Destination', 'addr', 'addr']],
  exporter: [['Exporter', 'addr', 'addr']],
  pair: [['Source', 'src_addr', 'addr'], ['Destination', 'dst_addr', 'addr']],
  port: [['Port', 'port', 'num'], ['Protocol', r => r.proto_name || r.proto, 'text']],
  proto: [['Protocol', r => r.proto_name || r.proto, 'text']],
  process: [['Process', 'process', 'text']],
};
const countColumns = [['Bytes', 'bytes', 'bytes'], ['Packets', 'packets', 'num'], ['Flows', 'flows', 'num']];

/* #overview=since=T&until=T: an absolute (e.g. old) window; the API
 * answers it from ClickHouse history when the live store does not hold it. */
async function showOverview() {
  const by = document.getElementById('top-by').value;
  const win = document.getElementById('top-window').value;
  const range = state.range || {};
  const abs = range.since || range.until;
  const [top, series] = await Promise.all([
    api('top', abs ? Object.assign({ by, limit: 20 }, range) : { by, window: win, limit: 20 }),
    api('series', Object.assign({ step: 60 }, range)),
  ]);
  fillTable('top', topColumns[by].concat(countColumns), top.rows);
  lineChart('chart-total', series.points, series.step);
  document.getElementById('overview-span').textContent =
    abs ? `${range.since || ''} to ${range.until || 'now'}, bytes per second` : 'last hour, bytes per second';
  document.getElementById('top-window').disabled = !!abs;
  const from = top.source === 'clickhouse' ? ' (from ClickHouse history)' : '';
  document.body.dataset.source = top.source || '';
  status('updated ' + top.now + from);
}

async function showIp(addr) {
  document.getElementById('ip-addr').textContent = addr;
  const [info, peers, protos, series] = await Promise.all([
    api('ip', { addr }), api('ip/peers', { addr }), api('ip/protocols', { addr }),
    api('ip/series', { addr }),
  ]);
  const body = document.querySelector('#ip-summary tbody');
  body.textContent = '';
  for (const [k, v] of [['Sent', human(info.bytes_out)], ['Received', human(info.bytes_in)],
                        ['Flows as source', info.flows_src], ['Flows as destination', info.flows_dst],
                        ['First seen', info.first], ['Last seen', info.last]]) {
    const tr = body.insertRow();
    tr.insertCell().textContent = k;
    tr.insertCell().textContent = v;
  }
  fillTable('ip-peers', [['Peer', 'addr', 'addr']].concat(countColumns), peers.rows);
  fillTable('ip-protocols', topColumns.proto.concat(countColumns), protos.rows);
  lineChart('chart-ip', series.points, series.step);
}

const flowColumns = [['End', 'end', 'text'], ['Source', 'src_addr', 'addr'], ['Port', 'src_port', 'num'],
  ['Destination', 'dst_addr', 'addr'], ['Port', 'dst_port', 'num'], ['Proto', 'proto', 'num'],
  ['Bytes', r => r.bytes + (r.rev_bytes || 0), 'bytes'], ['Packets', r => r.packets + (r.rev_packets || 0), 'num'],
  ['Exporter', 'exporter', 'text']];

async function showSearch(form) {
  const params = {};
  for (const [k, v] of new FormData(form)) if (v) params[k] = v;
  const res = await api('flows', params);
  fillTable('search-results', flowColumns, res.flows);
  status(res.count + ' flows');
}

async function showLive(snapshot) {
  const res = await api('sessions', { seconds: 300, limit: 200 });
  fillTable('live', flowColumns, res.flows);
  if (state.feed || snapshot) return; /* #live=snapshot: no feed (screenshots, tests) */
  const q = new URLSearchParams({ after: res.seq });
  if (state.token) q.set('access_token', state.token);
  state.feed = new EventSource('/api/v1/feed?' + q);
  state.feed.onmessage = ev => {
    const body = document.querySelector('#live tbody');
    fillRow(body, JSON.parse(ev.data));
    while (body.rows.length > 500) body.deleteRow(-1);
  };
}

function fillRow(body, f) {
  const tr = body.insertRow(0);
  for (const [, key, kind] of flowColumns) {
    const v = typeof key === 'function' ? key(f) : f[key];
    const td = tr.insertCell();
    if (kind === 'addr') td.appendChild(ipLink(v));
    else if (kind === 'bytes') { td.className = 'num'; td.dataset.bytes = v; td.textContent = human(v); }
    else td.textContent = v === undefined ? '' : v;
  }
}

async function showBad() {
  const res = await api('bad', { limit: 200 });
  document.getElementById('bad-rule').textContent =
    `sources with at least ${res.threshold} unanswered attempts in ${res.window} s`;
  fillTable('bad-ips', [['Source', 'addr', 'addr'], ['Attempts', 'attempts', 'num'],
    ['TCP', 'tcp_attempts', 'num'], ['UDP', 'udp_attempts', 'num'], ['Last target', 'last_dst', 'addr'],
    ['Port', 'last_port', 'num'], ['Last', 'last', 'text']], res.ips);
}

function status(text) {
  document.getElementById('status').textContent = text;
}

async function route() {
  const h = location.hash.replace(/^#/, '') || 'overview';
  const eq = h.indexOf('=');
  const page = eq < 0 ? h : h.slice(0, eq), arg = eq < 0 ? '' : h.slice(eq + 1);
  document.querySelectorAll('.page').forEach(p => p.classList.toggle('shown', p.id === 'page-' + page));
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.page === page));
  clearInterval(state.timer);
  try {
    if (page === 'overview') {
      state.range = {};
      for (const [k, v] of new URLSearchParams(decodeURIComponent(arg)))
        if (k === 'since' || k === 'until') state.range[k] = v;
      await showOverview();
      state.timer = setInterval(showOverview, 5000);
    }
    else if (page === 'ip') await showIp(decodeURIComponent(arg || ''));
    else if (page === 'live') await showLive(arg === 'snapshot');
    else if (page === 'search' && arg) {
      /* #search=addr=10.0.0.1&port=80 fills the form and searches */
      const form = document.getElementById('search-form');
      for (const [k, v] of new URLSearchParams(decodeURIComponent(arg))) if (form.elements[k]) form.elements[k].value = v;
      await showSearch(form);
    }
    else if (page === 'bad') { await showBad(); state.timer = setInterval(showBad, 10000); }
    document.body.dataset.loaded = page;
  } catch (e) {
    status('error: ' + e.message);
    document.body.dataset.error = e.message;
  }
}

takeToken();
document.getElementById('top-by').addEventListener('change', showOverview);
document.getElementById('top-window').addEventListener('change', showOverview);
document.getElementById('search-form').addEventListener('submit', ev => {
  ev.preventDefault();
  showSearch(ev.target).catch(e => status('error: ' + e.message));
});
window.addEventListener('hashchange', route);
route();
