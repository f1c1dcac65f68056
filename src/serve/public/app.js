// The page's router and the helpers every view shares: the API with the server's token, tables,
// number formatting and vega-embed. Views live in views/*.js, one per page, each `render(main, params)`.
import { render as runs } from './views/runs.js';
import { render as run } from './views/run.js';
import { render as compare } from './views/compare.js';
import { render as population } from './views/population.js';
import { render as claims } from './views/claims.js';
import { render as live } from './views/live.js';

const VIEWS = { runs, run, compare, population, claims, live };

/** The token the page was opened with (?token=…), carried on to every request. */
export const token = new URLSearchParams(location.search).get('token');

/** GET a JSON route; a refusal throws an Error with the server's message. */
export async function api(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) if (x !== undefined && x !== null && x !== '') q.append(k, String(x));
  const res = await fetch(`${path}${q.size ? `?${q}` : ''}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? body.message ?? res.statusText);
  return body;
}

/** An element with attributes and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null));
  return el;
}

/** A number to 4 significant digits, integers as they are, NaN and null as '–'. */
export function fmt(v) {
  if (typeof v !== 'number') return v === null || v === undefined ? '–' : String(v);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '–' : String(v);
  return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
}

/** A table of `rows` (arrays of cells: strings, numbers or elements) under `head`. */
export function table(head, rows, attrs = {}) {
  const cell = (c) => h('td', { class: typeof c === 'number' ? 'num' : undefined }, c instanceof Node ? c : fmt(c));
  return h('div', { class: 'scroll' }, h('table', attrs, h('thead', {}, h('tr', {}, head.map((c) => (c instanceof Node ? c : h('th', {}, c))))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map(cell))))));
}

/** A chart container rendering a Vega-Lite spec as SVG (so it scales and prints), with tooltips. */
export function chart(spec) {
  const el = h('div', { class: 'vega-chart' });
  window.vegaEmbed(el, spec, { renderer: 'svg', actions: false }).catch((e) => el.replaceChildren(h('p', { class: 'error' }, e.message)));
  return el;
}

/** A link to another page of the app; the token stays in the address's query. */
export const link = (hash, text) => h('a', { href: hash }, text);

/** `#/view?k=v` as the view's name and its parameters. */
function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  return { name: path.split('/')[0] || 'runs', params: new URLSearchParams(query ?? '') };
}

async function show() {
  const { name, params } = route();
  const main = document.getElementById('page');
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.getAttribute('href') === `#/${name}`);
  main.replaceChildren();
  // A view that keeps a connection open (live) returns its cleanup.
  show.cleanup?.();
  show.cleanup = undefined;
  try {
    show.cleanup = await (VIEWS[name] ?? runs)(main, params);
  } catch (e) {
    main.append(h('p', { class: 'error' }, e.message));
  }
}

window.addEventListener('hashchange', show);
show();
