// Runs: the table of runs, paged, filtered and sorted by the server (/api/runs), or grouped by all
// hyper-parameters but the seed with mean ± sd (/api/groups); selected runs open the comparison.
import { api, fmt, h, link, table } from '../app.js';

const PAGE = 50;
/** Metrics shown by default when present: the ones every run of dltheory records. */
const METRICS = ['final.trainAccuracy', 'final.testAccuracy', 'final.gap', 'final.trainLoss', 'final.testLoss'];

const label = (f) => f.replace(/^(hparams|final)\./, '');
const valueOf = (run, f) => (f.startsWith('hparams.') ? run.hparams[f.slice(8)] : f.startsWith('final.') ? run.final[f.slice(6)] : run[f]);
/** Hyper-parameters that differ between the given runs (or groups' keys): the columns worth a look. */
const varying = (objs, names) => names.filter((n) => new Set(objs.map((o) => JSON.stringify(o[n] ?? null))).size > 1);

export async function render(main, params) {
  const state = {
    f: params.get('f') ?? '',
    sort: params.get('sort') ?? 'created',
    desc: params.get('desc') !== '0',
    offset: Number(params.get('offset') ?? 0),
    group: params.get('group') === '1',
    extra: params.get('cols') ?? '',
  };
  const fields = await api('/api/fields');
  const go = (changes) => {
    const s = { ...state, ...changes };
    const q = new URLSearchParams({ f: s.f, sort: s.sort, desc: s.desc ? '1' : '0', offset: String(s.offset), group: s.group ? '1' : '0', cols: s.extra });
    location.hash = `#/runs?${q}`;
  };
  const filterBox = h('input', { type: 'text', id: 'filter', list: 'fields', value: state.f, placeholder: 'hparams.width>=512; final.gap<0.1; tag~zoo' });
  const colsBox = h('input', { type: 'text', id: 'columns', list: 'fields', value: state.extra, placeholder: 'more columns: final.margin.output.log_median, …' });
  const apply = () => go({ f: filterBox.value, extra: colsBox.value, offset: 0 });
  for (const box of [filterBox, colsBox]) box.addEventListener('keydown', (e) => e.key === 'Enter' && apply());
  const selected = new Set();
  main.append(
    h('h1', {}, 'Runs'),
    h('datalist', { id: 'fields' }, ['id', 'kind', 'tag', 'spec', 'data', 'seed', ...fields.hparams.map((k) => `hparams.${k}`), ...fields.final.map((k) => `final.${k}`)]
      .map((f) => h('option', { value: f }))),
    h('div', { class: 'toolbar' },
      h('label', {}, 'filter ', filterBox),
      h('button', { id: 'apply', onclick: apply }, 'apply'),
      h('label', {}, h('input', { type: 'checkbox', id: 'group', checked: state.group, onchange: (e) => go({ group: e.target.checked, offset: 0 }) }),
        ' group by all hyper-parameters but the seed')),
    h('div', { class: 'toolbar' }, colsBox,
      h('button', { id: 'compare', onclick: () => selected.size >= 2 && (location.hash = `#/compare?ids=${[...selected].join(',')}`) }, 'compare selected')),
  );
  const filters = state.f.split(';').map((s) => s.trim()).filter((s) => s !== '');
  const extra = state.extra.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (state.group) return renderGroups(main, filters, extra, state, go);

  const page = await api('/api/runs', { f: filters, sort: state.sort, desc: state.desc ? '1' : '0', offset: state.offset, limit: PAGE });
  const hp = varying(page.runs.map((r) => r.hparams), fields.hparams).filter((k) => k !== 'seed').map((k) => `hparams.${k}`);
  const metrics = [...METRICS.filter((m) => fields.final.includes(label(m))), ...extra];
  const cols = ['id', 'kind', 'tag', 'spec', 'seed', ...hp, ...metrics];
  const head = [h('th', {}, ''), ...cols.map((c) =>
    h('th', { class: 'sortable', title: `sort by ${c}`, onclick: () => go({ sort: c, desc: state.sort === c ? !state.desc : true, offset: 0 }) },
      label(c) + (state.sort === c ? (state.desc ? ' ▼' : ' ▲') : '')))];
  const rows = page.runs.map((r) => [
    h('input', { type: 'checkbox', class: 'select', onchange: (e) => (e.target.checked ? selected.add(r.id) : selected.delete(r.id)) }),
    link(`#/run?id=${encodeURIComponent(r.id)}`, r.id),
    ...cols.slice(1).map((c) => valueOf(r, c) ?? null),
  ]);
  const last = Math.min(state.offset + PAGE, page.total);
  main.append(
    h('p', { id: 'count' }, `runs ${page.total ? state.offset + 1 : 0}–${last} of ${page.total}`, ' ',
      h('button', { disabled: state.offset === 0, onclick: () => go({ offset: Math.max(0, state.offset - PAGE) }) }, '‹ previous'), ' ',
      h('button', { disabled: last >= page.total, onclick: () => go({ offset: state.offset + PAGE }) }, 'next ›')),
    table(head, rows, { id: 'runs' }),
  );
}

async function renderGroups(main, filters, extra, state, go) {
  const res = await api('/api/groups', { f: filters, offset: state.offset, limit: PAGE });
  const keys = varying(res.groups.map((g) => g.key), [...new Set(res.groups.flatMap((g) => Object.keys(g.key)))]);
  const metrics = [...METRICS, ...extra].map(label).filter((m) => res.groups.some((g) => m in g.metrics));
  const spread = (s) => (s === undefined ? '–' : `${fmt(s.mean)} ± ${fmt(s.sd)}`);
  const rows = res.groups.map((g) => [...keys.map((k) => g.key[k] ?? null), g.ids.length, g.seeds.join(', '), ...metrics.map((m) => spread(g.metrics[m]))]);
  const last = Math.min(state.offset + PAGE, res.total);
  main.append(
    h('p', { id: 'count' }, `groups ${res.total ? state.offset + 1 : 0}–${last} of ${res.total} (mean ± sd over seeds)`, ' ',
      h('button', { disabled: state.offset === 0, onclick: () => go({ offset: Math.max(0, state.offset - PAGE) }) }, '‹ previous'), ' ',
      h('button', { disabled: last >= res.total, onclick: () => go({ offset: state.offset + PAGE }) }, 'next ›')),
    table([...keys, 'runs', 'seeds', ...metrics], rows, { id: 'groups' }),
  );
}
