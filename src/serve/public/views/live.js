// Live: runs as they are committed to the store, pushed by the server (/api/live, server-sent
// events): a running zoo, sweep or `reproduce` shows its progress here.
import { h, table, token } from '../app.js';

export function render(main) {
  const counts = new Map();
  const status = h('p', { id: 'live-status' }, 'connecting…');
  const tbody = h('tbody', { id: 'live-runs' });
  const tags = h('p', { id: 'live-tags', class: 'muted' });
  main.append(h('h1', {}, 'Live'), status, tags,
    h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, ['committed', 'id', 'kind', 'tag', 'spec', 'train acc', 'test acc', 'gap', 'seconds'].map((c) => h('th', {}, c)))), tbody)));
  const source = new EventSource(`api/live${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  source.addEventListener('hello', (e) => {
    const { last } = JSON.parse(e.data);
    status.textContent = `watching the store; last committed run ${last ?? 'none yet'}; new runs appear below as they are committed`;
  });
  source.addEventListener('run', (e) => {
    const r = JSON.parse(e.data);
    counts.set(r.tag ?? '(no tag)', (counts.get(r.tag ?? '(no tag)') ?? 0) + 1);
    tags.textContent = [...counts].map(([t, n]) => `${t}: ${n} new`).join(' · ');
    const row = table([], [[r.created, h('a', { href: `#/run?id=${encodeURIComponent(r.id)}` }, r.id), r.kind, r.tag ?? '', r.spec,
      r.final.trainAccuracy ?? null, r.final.testAccuracy ?? null, r.final.gap ?? null, r.seconds ?? null]]).querySelector('tbody tr');
    tbody.prepend(row);
  });
  source.addEventListener('error', () => (status.textContent = 'connection lost; retrying…'));
  return () => source.close();
}
