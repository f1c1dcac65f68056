// Compare: the selected runs side by side, only the fields on which they differ (/api/compare).
import { api, h, link, table } from '../app.js';

const valueOf = (run, f) => (f.startsWith('hparams.') ? run.hparams[f.slice(8)] : f.startsWith('final.') ? run.final[f.slice(6)] : run[f]);

export async function render(main, params) {
  const { runs, differing } = await api('/api/compare', { ids: params.get('ids') ?? '' });
  main.append(
    h('h1', {}, `Compare ${runs.length} runs`),
    h('p', { class: 'muted' }, `${differing.length} differing fields; the fields all runs share are left out.`),
    table(['field', ...runs.map((r) => link(`#/run?id=${encodeURIComponent(r.id)}`, r.id)).map((a) => h('th', {}, a))],
      differing.map((f) => [f, ...runs.map((r) => valueOf(r, f) ?? null)]), { id: 'compare-table' }),
  );
}
