import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { barChart, boxPlotChart, heatmapChart, lineChart, renderSvg, scatterChart } from '../src/report/chart.js';
import { createReport } from '../src/report/report.js';
import { formatTable, progress } from '../src/report/progress.js';
import { markdownToHtml } from '../src/report/markup.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dltheory-report-'));
  tempDirs.push(dir);
  return dir;
}

/** How many marks of a kind Vega drew, by their ARIA role description ('point', 'bar', 'line mark'). */
function countMarks(svg: string, description: string): number {
  return svg.split(`aria-roledescription="${description}"`).length - 1;
}

test('report writes md, html, svg, spec, csv and json', async () => {
  const dir = tempDir();
  const report = createReport(dir, 'Margins <&> "test"');
  report.heading('Training');
  report.paragraph('Loss **falls**; see `train.loss` and <script>alert(1)</script>.\n\n- one\n- two');
  report.table(['model', 'acc'], [['mlp, wide', 0.9712345], ['cnn "small"', 0.95]], 'summary');
  const data = [
    { epoch: 1, 'train.loss': 2.0, split: 'train' },
    { epoch: 2, 'train.loss': 1.0, split: 'train' },
    { epoch: 3, 'train.loss': 0.5, split: 'train' },
    { epoch: 1, 'train.loss': 2.2, split: 'test' },
    { epoch: 2, 'train.loss': 1.4, split: 'test' },
    { epoch: 3, 'train.loss': 1.1, split: 'test' },
  ];
  await report.chart('loss', lineChart({ title: 'Loss', x: 'epoch', y: 'train.loss', series: 'split', data, logY: true }));
  const points = [{ a: 1, b: 1.1 }, { a: 2, b: 1.9 }, { a: 3, b: 3.2 }, { a: 4, b: 3.8 }];
  const scatter = report.chart('pred', scatterChart({ title: 'Predicted', x: 'a', y: 'b', data: points, diagonal: true }), points);
  report.json('summary-values', { best: 0.97, nan: null });
  await scatter;
  await report.finish();

  for (const f of ['report.md', 'report.html', 'summary.csv', 'loss.svg', 'loss.vl.json', 'loss.csv', 'loss.json', 'pred.svg', 'summary-values.json']) {
    assert.ok(fs.existsSync(path.join(dir, f)), `${f} missing`);
  }
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);

  const svg = fs.readFileSync(path.join(dir, 'loss.svg'), 'utf8');
  assert.match(svg, /^<svg[\s>]/);
  assert.match(svg, /<\/svg>\s*$/);
  // Two series, each drawn as a line, with a point per row that carries the row's numbers.
  assert.equal(countMarks(svg, 'line mark'), 2);
  assert.equal(countMarks(svg, 'point'), data.length);
  assert.match(svg, /aria-label="epoch: 3; train.loss: 1.1; split: test/);
  const pred = fs.readFileSync(path.join(dir, 'pred.svg'), 'utf8');
  assert.equal(countMarks(pred, 'point'), points.length);
  assert.equal(countMarks(pred, 'line mark'), 1);

  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'loss.vl.json'), 'utf8'));
  assert.equal(spec.$schema, 'https://vega.github.io/schema/vega-lite/v6.json');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'loss.json'), 'utf8')), data);
  assert.equal(fs.readFileSync(path.join(dir, 'loss.csv'), 'utf8').split('\r\n')[0], 'epoch,train.loss,split');
  assert.equal(
    fs.readFileSync(path.join(dir, 'summary.csv'), 'utf8'),
    'model,acc\r\n"mlp, wide",0.9712345\r\n"cnn ""small""",0.95\r\n',
  );

  const md = fs.readFileSync(path.join(dir, 'report.md'), 'utf8');
  assert.match(md, /^# Margins <&> "test"\n/);
  assert.match(md, /\| mlp, wide \| 0\.9712 \|/);
  assert.match(md, /!\[loss\]\(loss\.svg\)/);
  assert.ok(md.indexOf('loss.svg') < md.indexOf('pred.svg'));
  assert.ok(md.indexOf('pred.svg') < md.indexOf('summary-values.json'));

  const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
  assert.match(html, /<title>Margins &#60;&#38;&#62; &#34;test&#34;<\/title>/);
  assert.ok(!html.includes('<script>'), 'raw markup from text must be escaped');
  assert.match(html, /<strong>falls<\/strong>/);
  assert.match(html, /<code>train.loss<\/code>/);
  assert.match(html, /<li>two<\/li>/);
  assert.equal((html.match(/<svg/g) ?? []).length, 2);
  assert.match(html, /<td class="num">0.9712<\/td>/);
});

test('every chart builder renders an SVG', async () => {
  const raw = ['a', 'b'].flatMap((g) => [1, 2, 3, 4, 10].map((v) => ({ g, v: g === 'a' ? v : v * 2 })));
  const summary = [
    { g: 'a', lower: 1, q1: 2, median: 3, q3: 4, upper: 6 },
    { g: 'b', lower: 2, q1: 3, median: 5, q3: 6, upper: 9 },
  ];
  const cells = [1, 2].flatMap((w) => [1, 2, 3].map((d) => ({ width: w, depth: d, acc: w * d })));
  const specs = [
    barChart({ title: 'Bars', x: 'g', y: 'v', data: [{ g: 'x', v: 1 }, { g: 'y', v: 2 }] }),
    boxPlotChart({ title: 'Raw', group: 'g', value: 'v', data: raw }),
    boxPlotChart({ title: 'Summary', group: 'g', data: summary }),
    heatmapChart({ title: 'Heat', x: 'width', y: 'depth', value: 'acc', data: cells }),
    scatterChart({ title: 'Coloured', x: 'width', y: 'acc', color: 'depth', data: cells }),
  ];
  const svgs = await Promise.all(specs.map(renderSvg));
  for (const svg of svgs) assert.match(svg, /^<svg[\s>]/);
  assert.equal(countMarks(svgs[0]!, 'bar'), 2);
  assert.equal(countMarks(svgs[3]!, 'rect mark'), cells.length);
  assert.equal(countMarks(svgs[4]!, 'point'), cells.length);
});

test('progress writes JSON lines off a terminal', () => {
  let out = '';
  const stream = { write: (s: string) => (out += s), isTTY: false };
  const p = progress({ total: 10, label: 'train', stream });
  for (let i = 0; i < 10; i++) p.tick(1, { loss: 1 / (i + 1) });
  p.done();
  p.done();
  const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l));
  // The first tick and the final state; the rest fall within the one-second throttle.
  assert.equal(lines.length, 2);
  assert.deepEqual(Object.keys(lines[1]).slice(0, 6), ['event', 'label', 'done', 'total', 'elapsed', 'eta']);
  assert.equal(lines[1].event, 'progress');
  assert.equal(lines[1].label, 'train');
  assert.equal(lines[1].done, 10);
  assert.equal(lines[1].total, 10);
  assert.equal(lines[1].eta, 0);
  assert.equal(lines[1].loss, 0.1);
});

test('progress draws a bar on a terminal', () => {
  let out = '';
  const stream = { write: (s: string) => (out += s), isTTY: true, columns: 80 };
  const p = progress({ total: 4, label: 'zoo', stream });
  p.tick(2);
  p.done();
  assert.match(out, /\rzoo \[#+-+\] 2\/4 50% 0:00 eta 0:00/);
  assert.ok(out.endsWith('\n'));
});

test('formatTable aligns columns', () => {
  const text = formatTable(['model', 'acc'], [['mlp', 0.9712345], ['resnet', 1]]);
  assert.equal(text, ['model      acc', '------  ------', 'mlp     0.9712', 'resnet       1'].join('\n'));
});

test('markdown links cannot carry scripts', () => {
  assert.equal(markdownToHtml('[x](javascript:alert`1`)'), '<p>x</p>');
  assert.equal(markdownToHtml('[docs](https://a.b/c?d=1&e=2)'), '<p><a href="https://a.b/c?d=1&#38;e=2">docs</a></p>');
});
