// Population: a zoo or sweep (a tag) as a whole: any measure against the gap coloured by a
// hyper-parameter, parallel coordinates, the ranking table of measures and the predicted gap.
import { api, chart, h, table } from '../app.js';

export async function render(main, params) {
  const tags = await api('/api/tags');
  if (tags.length === 0) {
    main.append(h('p', {}, 'no tagged runs in this store'));
    return;
  }
  const tag = params.get('tag') ?? [...tags].sort((a, b) => b.runs - a.runs)[0].tag;
  const p = await api('/api/population', { tag, measure: params.get('measure'), color: params.get('color') });
  const go = (changes) => {
    location.hash = `#/population?${new URLSearchParams({ tag: p.tag, measure: p.measure, ...(p.color ? { color: p.color } : {}), ...changes })}`;
  };
  const select = (id, options, value, key) =>
    h('select', { id, onchange: (e) => go(key === 'tag' ? { tag: e.target.value, measure: '', color: '' } : { [key]: e.target.value }) },
      options.map((o) => h('option', { value: o, selected: o === value }, o)));
  main.append(
    h('h1', {}, `Population ${p.tag}`),
    h('p', {}, `${p.runs} models${p.unfitted.length ? `, ${p.unfitted.length} left out below the grid's training accuracy` : ''}; varied: ${p.varied.join(', ') || 'nothing'}`),
    h('div', { class: 'toolbar' },
      h('label', {}, 'tag ', select('tag', tags.map((t) => t.tag), p.tag, 'tag')),
      h('label', {}, 'measure ', select('measure', p.measures, p.measure, 'measure')),
      p.varied.length ? h('label', {}, 'colour ', select('color', p.varied, p.color, 'color')) : null),
    h('div', { class: 'charts' }, chart(p.scatter), chart(p.parallel)),
    h('h2', {}, 'Ranking of measures (fitted to the gap; 10-fold CV)'),
  );
  const r = p.ranking;
  if (r.rows.length === 0) main.append(h('p', { class: 'muted' }, r.reason));
  else {
    const rows = [...r.rows].sort((a, b) => (Number.isNaN(b.cvR2) ? -Infinity : b.cvR2) - (Number.isNaN(a.cvR2) ? -Infinity : a.cvR2));
    main.append(
      table(['measure', 'features', 'CV R²', 'Kendall τ', 'Ψ', 'CMI', 'adjusted R²'],
        rows.map((m) => [m.measure, m.features, m.cvR2, m.kendallTau, m.psi, m.cmi, m.adjustedR2]), { id: 'ranking' }),
      h('p', { class: 'muted' }, Object.keys(r.leftOut).length
        ? `Left out, not finite on some models: ${Object.entries(r.leftOut).map(([m, n]) => `${m} (${n})`).join(', ')}.`
        : 'Every measure is finite on every model.'),
    );
  }
  if (r.predicted) main.append(h('h2', {}, r.predicted.title), chart(r.predicted.spec));
}
