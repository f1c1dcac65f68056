// Run: one run's training curves (log axis and smoothing toggles), its margin distributions and
// other final measures, and the model summary that `dltheory layers` prints.
import { api, chart, h, table } from '../app.js';

export async function render(main, params) {
  const id = params.get('id') ?? '';
  const log = params.get('log') === '1';
  const smooth = Number(params.get('smooth') ?? 0);
  const d = await api(`/api/run/${encodeURIComponent(id)}`, { log: log ? '1' : '0', smooth });
  const go = (changes) => {
    const q = new URLSearchParams({ id, log: log ? '1' : '0', smooth: String(smooth), ...changes });
    location.hash = `#/run?${q}`;
  };
  const { run } = d;
  main.append(
    h('h1', {}, `Run ${run.id}`),
    h('p', {}, `${run.kind} · ${run.spec} · ${run.data} · seed ${run.seed} · ${run.created}${run.tag ? ` · tag ${run.tag}` : ''}`),
    h('p', { id: 'hparams' }, Object.entries(run.hparams).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(' · ')),
    h('h2', {}, 'Training curves'),
    h('div', { class: 'toolbar' },
      h('label', {}, h('input', { type: 'checkbox', id: 'log', checked: log, onchange: (e) => go({ log: e.target.checked ? '1' : '0' }) }), ' log y axis'),
      h('label', {}, ' smoothing ',
        h('input', { type: 'range', id: 'smooth', min: 0, max: 0.95, step: 0.05, value: smooth, onchange: (e) => go({ smooth: e.target.value }) }), ` ${smooth}`)),
    d.curves.length ? h('div', { class: 'charts' }, d.curves.map((c) => chart(c.spec))) : h('p', { class: 'muted' }, 'no epochs recorded'),
  );
  if (d.margins.length) main.append(h('h2', {}, 'Margin distributions'), h('div', { class: 'charts' }, d.margins.map((c) => chart(c.spec))));
  main.append(
    h('h2', {}, 'Measures (final)'),
    table(['measure', 'value'], Object.entries(run.final).map(([k, v]) => [k, v]), { id: 'measures' }),
    h('h2', {}, 'Model (dltheory layers)'),
  );
  const s = d.summary;
  if (s.error) main.append(h('p', { class: 'muted' }, s.error));
  else {
    const shape = (x) => (x === null ? 'not reached' : `[${x.map((n) => (n === -1 ? 'N' : n)).join(', ')}]`);
    main.append(
      table(['point', 'operator', 'output shape', 'parameters'], s.rows.map((r) => [r.point, r.operator, shape(r.shape), r.parameters]), { id: 'layers' }),
      h('p', {}, `points of shape [${s.inputShape.join(', ')}]; total parameters ${s.total}`),
    );
  }
}
