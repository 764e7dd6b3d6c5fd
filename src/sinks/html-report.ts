/**
 * One self-contained HTML page of charts (issue 19: `fsscan report`, `nostr report`, the code
 * neighbourhood page): the data as JSON and a small script that draws SVG inside the page, so it
 * opens from a file, a mail attachment or an air-gapped cluster with no network request at all.
 *
 * Hand-written rather than a chart library: what is drawn is four shapes (horizontal bars, columns,
 * a squarified treemap with drill-down, a node-link neighbourhood); the script is ~9 KB, where
 * inlining a general library (d3 ~280 KB, Chart.js ~200 KB) would be the bulk of every report.
 * Every drawn mark carries `data-label` and `data-value`, so a test (and a curious user) can read
 * the numbers back from the page.
 */
import { writeFileSync } from 'node:fs';
import { OutputTransaction } from '../engine/atomic.js';
import { checkFileOutput } from '../engine/output-target.js';

export interface Bar { label: string; value: number; title?: string }
export interface TreeNode { name: string; path: string; value: number; files: number; children?: TreeNode[] }
export interface GraphNode { id: string; label: string; title?: string; side: 'center' | 'caller' | 'callee'; depth: number; href?: string }

export type Chart =
  | { kind: 'bars'; id: string; title: string; unit: 'bytes' | 'count'; bars: Bar[]; note?: string }
  | { kind: 'columns'; id: string; title: string; unit: 'bytes' | 'count'; bars: Bar[]; note?: string }
  | { kind: 'treemap'; id: string; title: string; root: TreeNode; note?: string }
  | { kind: 'graph'; id: string; title: string; nodes: GraphNode[]; edges: [string, string][]; note?: string };

export interface Report { title: string; subtitle: string; facts: [string, string][]; charts: Chart[] }

/** JSON that cannot close the script element it sits in. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderReport(report: Report): string {
  const facts = report.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(report.title)}</title>
<style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(report.title)}</h1><p>${escapeHtml(report.subtitle)}</p><dl>${facts}</dl></header>
<main id="charts"></main>
<script type="application/json" id="report-data">${scriptJson(report.charts)}</script>
<script>${CLIENT}</script>
</body></html>
`;
}

/** Writes the page atomically (a temporary renamed into place), after the usual output checks. */
export function writeReport(path: string, report: Report): void {
  checkFileOutput(path, { option: '-o', inputs: [], outputs: [], stdout: true });
  if (path === '-') {
    process.stdout.write(renderReport(report));
    return;
  }
  const tx = new OutputTransaction();
  try {
    writeFileSync(tx.tempFor(path), renderReport(report));
    tx.commit();
  } catch (err) {
    tx.abort();
    throw err;
  }
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}header p{margin:0 0 8px;color:#555}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0 16px}dt{color:#555}dd{margin:0}
figure{margin:0 0 28px;border-top:1px solid #ddd;padding-top:10px}figcaption{font-weight:600;margin-bottom:6px}
.note{color:#666;font-size:12px;margin:4px 0}svg{display:block;max-width:100%;overflow:visible}
svg text{font-size:11px;fill:#222}.crumbs a{cursor:pointer;color:#0645ad;text-decoration:underline}
.tm rect{stroke:#fff;stroke-width:1}.tm g.drill{cursor:pointer}.tm g.drill:hover rect{opacity:.85}
.edge{stroke:#999;fill:none;marker-end:url(#arrow)}
`;

/** The page's script: reads #report-data and draws each chart as SVG. Runs in the browser. */
const CLIENT = String.raw`
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var charts = JSON.parse(document.getElementById('report-data').textContent);
  var main = document.getElementById('charts');
  var palette = ['#4e79a7','#f28e2b','#e15759','#76b7b2','#59a14f','#edc948','#b07aa1','#ff9da7','#9c755f','#bab0ac'];
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, anchor) {
    var t = el('text', { x: x, y: y, 'text-anchor': anchor || 'start' }, parent);
    t.textContent = s;
    return t;
  }
  function tip(node, s) { var t = el('title', {}, node); t.textContent = s; }
  function fmt(v, unit) {
    if (unit !== 'bytes') return v.toLocaleString('en-US');
    var units = ['B','KiB','MiB','GiB','TiB','PiB','EiB'], i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return v.toFixed(i ? 1 : 0) + ' ' + units[i];
  }
  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }
  function mark(node, label, value) { node.setAttribute('data-label', label); node.setAttribute('data-value', String(value)); }

  function bars(fig, c) {
    if (!c.bars.length) { var none = document.createElement('p'); none.className = 'note'; none.textContent = 'Nothing to show.'; fig.appendChild(none); return; }
    var h = 20, left = 190, width = 860, max = Math.max.apply(null, c.bars.map(function (b) { return b.value; }).concat([1]));
    var svg = el('svg', { width: width, height: c.bars.length * h + 4, viewBox: '0 0 ' + width + ' ' + (c.bars.length * h + 4) }, fig);
    c.bars.forEach(function (b, i) {
      var w = Math.max(1, (width - left - 110) * b.value / max);
      var g = el('g', {}, svg);
      text(g, left - 6, i * h + 14, clip(b.label, 24), 'end');
      var r = el('rect', { x: left, y: i * h + 3, width: w, height: h - 6, fill: palette[0] }, g);
      mark(r, b.label, b.value);
      tip(r, (b.title || b.label) + ': ' + fmt(b.value, c.unit));
      text(g, left + w + 6, i * h + 14, fmt(b.value, c.unit));
    });
  }

  function columns(fig, c) {
    var width = 1040, height = 220, bottom = 40, left = 60, n = Math.max(c.bars.length, 1);
    var max = Math.max.apply(null, c.bars.map(function (b) { return b.value; }).concat([1]));
    var svg = el('svg', { width: width, height: height + bottom, viewBox: '0 0 ' + width + ' ' + (height + bottom) }, fig);
    var step = (width - left) / n;
    text(svg, left - 6, 12, fmt(max, c.unit), 'end');
    text(svg, left - 6, height, '0', 'end');
    el('line', { x1: left, y1: height, x2: width, y2: height, stroke: '#999' }, svg);
    var every = Math.ceil(n / 12);
    c.bars.forEach(function (b, i) {
      var hh = (height - 16) * b.value / max;
      var r = el('rect', { x: left + i * step + step * 0.1, y: height - hh, width: Math.max(step * 0.8, 0.5), height: hh, fill: palette[0] }, svg);
      mark(r, b.label, b.value);
      tip(r, (b.title || b.label) + ': ' + fmt(b.value, c.unit));
      if (i % every === 0) text(svg, left + i * step + step / 2, height + 14, clip(b.label, 14), 'middle');
    });
  }

  // Squarified treemap (Bruls, Huizing, van Wijk 2000) of a node's children; a click drills down.
  function squarify(items, x, y, w, h) {
    var out = [], total = items.reduce(function (s, it) { return s + it.value; }, 0);
    if (total <= 0) return out;
    var scale = w * h / total, rest = items.map(function (it) { return { it: it, area: it.value * scale }; });
    while (rest.length) {
      var side = Math.min(w, h), row = [], best = Infinity;
      while (rest.length) {
        var cand = row.concat([rest[0]]), sum = cand.reduce(function (s, r) { return s + r.area; }, 0);
        var mx = Math.max.apply(null, cand.map(function (r) { return r.area; })), mn = Math.min.apply(null, cand.map(function (r) { return r.area; }));
        var worst = Math.max(side * side * mx / (sum * sum), sum * sum / (side * side * mn));
        if (worst > best) break;
        best = worst; row = cand; rest.shift();
      }
      var rowSum = row.reduce(function (s, r) { return s + r.area; }, 0), thick = rowSum / side, off = 0;
      row.forEach(function (r) {
        var len = r.area / thick;
        out.push(w >= h ? { it: r.it, x: x, y: y + off, w: thick, h: len } : { it: r.it, x: x + off, y: y, w: len, h: thick });
        off += len;
      });
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
    }
    return out;
  }
  function treemap(fig, c) {
    var crumbs = document.createElement('div'); crumbs.className = 'crumbs'; fig.appendChild(crumbs);
    var width = 1040, height = 520;
    var svg = el('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, 'class': 'tm' }, fig);
    var trail = [c.root];
    function draw() {
      var node = trail[trail.length - 1];
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      crumbs.textContent = '';
      trail.forEach(function (t, i) {
        if (i) crumbs.appendChild(document.createTextNode(' / '));
        var a = document.createElement(i < trail.length - 1 ? 'a' : 'span');
        a.textContent = t.name + ' (' + fmt(t.value, 'bytes') + ')';
        if (i < trail.length - 1) a.addEventListener('click', function () { trail = trail.slice(0, i + 1); draw(); });
        crumbs.appendChild(a);
      });
      svg.setAttribute('data-root', node.path);
      var kids = (node.children || []).filter(function (k) { return k.value > 0; });
      var shown = kids.reduce(function (s, k) { return s + k.value; }, 0);
      var items = kids.slice();
      if (node.value - shown > 0) items.push({ name: kids.length ? '(files here and smaller directories)' : '(files)', path: node.path, value: node.value - shown, files: 0, rest: true });
      squarify(items, 0, 0, width, height).forEach(function (cell, i) {
        var it = cell.it, g = el('g', { 'class': it.children && it.children.length ? 'drill' : '' }, svg);
        var r = el('rect', { x: cell.x, y: cell.y, width: Math.max(cell.w, 0), height: Math.max(cell.h, 0), fill: it.rest ? '#ccc' : palette[i % palette.length] }, g);
        if (!it.rest) { mark(r, it.path, it.value); r.setAttribute('data-files', String(it.files)); }
        tip(g, it.path + '\n' + fmt(it.value, 'bytes') + (it.rest ? '' : ', ' + it.files.toLocaleString('en-US') + ' files'));
        if (cell.w > 60 && cell.h > 28) {
          text(g, cell.x + 4, cell.y + 14, clip(it.name, Math.floor(cell.w / 7)));
          text(g, cell.x + 4, cell.y + 27, fmt(it.value, 'bytes'));
        }
        if (it.children && it.children.length) g.addEventListener('click', function () { trail.push(it); draw(); });
      });
    }
    draw();
  }

  function graph(fig, c) {
    var cols = {}, width = 1040, rowH = 26;
    c.nodes.forEach(function (n) {
      var col = n.side === 'center' ? 0 : (n.side === 'caller' ? -n.depth : n.depth);
      (cols[col] = cols[col] || []).push(n);
    });
    var keys = Object.keys(cols).map(Number).sort(function (a, b) { return a - b; });
    var lo = keys[0], hi = keys[keys.length - 1], span = Math.max(hi - lo, 1);
    var rows = Math.max.apply(null, keys.map(function (k) { return cols[k].length; }));
    var height = rows * rowH + 20, pos = {};
    var svg = el('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height }, fig);
    var defs = el('defs', {}, svg), m = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#999' }, m);
    keys.forEach(function (k) {
      var x = 90 + (width - 180) * (k - lo) / span, list = cols[k], top = (height - list.length * rowH) / 2;
      list.forEach(function (n, i) { pos[n.id] = { x: x, y: top + i * rowH + rowH / 2 }; });
    });
    c.edges.forEach(function (e) {
      var a = pos[e[0]], b = pos[e[1]];
      if (!a || !b) return;
      var p = el('path', { 'class': 'edge', d: 'M' + (a.x + 80) + ',' + a.y + ' C' + (a.x + 120) + ',' + a.y + ' ' + (b.x - 120) + ',' + b.y + ' ' + (b.x - 80) + ',' + b.y }, svg);
      p.setAttribute('data-edge', e[0] + ' -> ' + e[1]);
    });
    c.nodes.forEach(function (n) {
      var p = pos[n.id], g = el(n.href ? 'a' : 'g', n.href ? { href: n.href } : {}, svg);
      var r = el('rect', { x: p.x - 80, y: p.y - 10, width: 160, height: 20, rx: 4, fill: n.side === 'center' ? '#f28e2b' : n.side === 'caller' ? '#4e79a7' : '#59a14f' }, g);
      mark(r, n.id, n.depth);
      r.setAttribute('data-side', n.side);
      tip(g, n.title || n.label);
      var t = text(g, p.x, p.y + 4, clip(n.label, 24), 'middle'); t.setAttribute('fill', '#fff'); t.style.fill = '#fff';
    });
  }

  var draw = { bars: bars, columns: columns, treemap: treemap, graph: graph };
  charts.forEach(function (c) {
    var fig = document.createElement('figure');
    fig.setAttribute('data-chart', c.id);
    var cap = document.createElement('figcaption'); cap.textContent = c.title; fig.appendChild(cap);
    if (c.note) { var p = document.createElement('p'); p.className = 'note'; p.textContent = c.note; fig.appendChild(p); }
    main.appendChild(fig);
    draw[c.kind](fig, c);
  });
  document.body.setAttribute('data-ready', 'true');
})();
`;
