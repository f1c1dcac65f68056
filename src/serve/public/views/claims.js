// Claims: the verdict table of a `reproduce` report (results.json), each claim's statement, rule,
// numbers and charts, and the history of every claim's verdict over the report folders.
import { api, chart, h, table, token } from '../app.js';

const verdict = (v) => h('span', { class: (v ?? 'none').replace(/ /g, '-') }, v ?? '–');
const fileLink = (report, name) => {
  const path = `${report === '.' ? '' : `${encodeURIComponent(report)}/`}${name}`;
  return h('a', { href: `files/${path}${token ? `?token=${encodeURIComponent(token)}` : ''}` }, name);
};

export async function render(main, params) {
  const d = await api('/api/claims', { report: params.get('report') });
  main.append(
    h('h1', {}, 'Claims'),
    h('div', { class: 'toolbar' }, h('label', {}, 'report ',
      h('select', { id: 'report', onchange: (e) => (location.hash = `#/claims?report=${encodeURIComponent(e.target.value)}`) },
        d.reports.map((r) => h('option', { value: r.name, selected: r.name === d.report }, `${r.name} (${r.time})`)))),
      fileLink(d.report, 'report.html')),
    table(['claim', 'verdict', 'numbers'], d.results.map((c) => [h('a', { href: `#claim-${c.id}`, onclick: (e) => {
      e.preventDefault();
      document.getElementById(`claim-${c.id}`)?.scrollIntoView();
    } }, c.id), verdict(c.verdict), h('span', { class: 'wrap' }, c.reason ?? '')]), { id: 'verdicts' }),
    h('h2', {}, 'History'),
    table(['claim', ...d.reports.map((r) => r.name)], d.history.map((c) => [c.id, ...c.verdicts.map(verdict)]), { id: 'history' }),
  );
  for (const c of d.results) {
    const details = h('details', { id: `claim-${c.id}` },
      h('summary', {}, h('strong', {}, c.id), ' ', verdict(c.verdict), ' ', c.statement ?? ''),
      h('p', {}, h('em', {}, c.paper ?? '')),
      h('p', {}, h('strong', {}, 'rule: '), c.rule ?? ''),
      h('p', {}, h('strong', {}, 'numbers: '), c.reason ?? ''),
      table(['figure', 'value', 'paper', 'unit'], (c.figures ?? []).map((f) => [f.name, f.value, f.paper ?? null, f.unit ?? ''])));
    // Charts are embedded when the details open: a report holds dozens, most never looked at.
    details.addEventListener('toggle', () => {
      if (!details.open || details.dataset.charts) return;
      details.dataset.charts = '1';
      details.append(h('div', { class: 'charts' }, (c.charts ?? []).map((ch) => h('div', {}, h('h2', {}, ch.title ?? ch.name), chart(ch.spec)))));
    });
    main.append(details);
  }
}
