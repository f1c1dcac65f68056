/**
 * `dltheory spectra`: the heavy-tailed spectra of a model's weight matrices, WeightWatcher's measures
 * (src/measures/spectra.ts: Martin & Mahoney 2021; Martin, Peng & Mahoney 2021; the power-law fit of
 * Clauset, Shalizi & Newman 2009), per layer and averaged, with an optional chart of each layer's ESD.
 */
import type { TopLevelSpec } from 'vega-lite';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { type LayerSpectrum, SUMMARY_FIELDS, weightSpectra } from '../measures/spectra.js';
import { lineChart, renderSvg, type Row } from '../report/chart.js';
import { formatTable, type Progress, progress } from '../report/progress.js';
import { numberOpt, outputOpt, parse, required, type Command } from './args.js';
import { openModel } from './models.js';

/** Most points of a layer's CCDF drawn, so that a large model's chart stays a readable size. */
const CHART_POINTS = 400;

/**
 * The complementary CDF P(λ ≥ x) of each layer's nonzero eigenvalues on log-log axes, one colour per
 * layer, each with its fitted tail (tail/n)·(x/x_min)^(1−α) from x_min dashed.
 */
function esdChart(title: string, layers: LayerSpectrum[]): TopLevelSpec {
  const points: Row[] = [];
  const fits: Row[] = [];
  for (const l of layers) {
    const v = l.eigenvalues.subarray(l.eigenvalues.length - l.nonzero);
    const step = Math.max(1, Math.ceil(v.length / CHART_POINTS));
    for (let i = 0; i < v.length; i += step) points.push({ layer: l.name, eigenvalue: v[i], ccdf: (v.length - i) / v.length });
    if (v.length > 0 && (v.length - 1) % step !== 0) points.push({ layer: l.name, eigenvalue: v[v.length - 1], ccdf: 1 / v.length });
    if (Number.isNaN(l.alpha)) continue;
    const top = v[v.length - 1];
    const at = (x: number) => (l.tailSize / v.length) * (x / l.xmin) ** (1 - l.alpha);
    fits.push({ layer: l.name, eigenvalue: l.xmin, ccdf: at(l.xmin) }, { layer: l.name, eigenvalue: top, ccdf: at(top) });
  }
  // lineChart's frame, log axes and colours, its one line split into the points and the fitted lines.
  const base = lineChart({ title, data: points, x: 'eigenvalue', y: 'ccdf', series: 'layer', logX: true, logY: true, xTitle: 'eigenvalue λ of WᵀW/N',
    yTitle: 'P(λ ≥ x)' }) as TopLevelSpec & { mark: unknown; encoding: Record<string, unknown> };
  const { mark: _line, encoding, ...frame } = base;
  return {
    ...frame,
    layer: [
      { mark: { type: 'point', filled: true, size: 12 }, encoding },
      { data: { values: fits }, mark: { type: 'line', strokeDash: [6, 3] }, encoding },
    ],
  } as TopLevelSpec;
}

export const spectraCommand: Command = {
  name: 'spectra',
  summary: 'heavy-tailed spectra of the weight matrices: power-law α and norms (WeightWatcher; Martin & Mahoney 2021)',
  usage: `
dltheory spectra --model FILE|SPEC [--seed S] [--json [--eigenvalues]] [--chart FILE.svg]

  --model FILE|SPEC  a .safetensors file written by dltheory, an ONNX model, or a spec (initialised with --seed)
  --seed S           seed of a spec's initialisation (default 0)
  --json             {model, layers: [{name, shape, n, m, matrices, nonzero, lambdaMax, alpha, xmin, ksDistance,
                     tailSize, alphaWeighted, stableRank, logSpectralNorm, logFrobeniusNorm, logNorm, notes}],
                     summary: {alpha, alphaWeighted, stableRank, logSpectralNorm, logNorm}, undefined}; a null
                     is undefined, and the layer's notes (or undefined, for the summary) say why
  --eigenvalues      with --json, each layer's eigenvalues too (ascending)
  --chart FILE.svg   each layer's ESD as P(λ ≥ x) on log-log axes, with its fitted power-law tail

Every parameter '….weight' of two or more dims is a layer, as stored (BatchNorm not folded in). A Linear
weight is one N×M matrix (N ≥ M), a convolution [out, in, kh, kw] kh·kw matrices [out, in] whose eigenvalues
are pooled into one ESD, as WeightWatcher does. The ESD is the eigenvalues of X = WᵀW/N. alpha is the
Clauset–Shalizi–Newman power-law exponent of the ESD's tail above xmin (chosen by the smallest KS
distance); a layer with fewer than 10 nonzero eigenvalues has none. Norms are log₁₀ of squared norms of W
(logSpectralNorm = log₁₀‖W‖₂², logNorm = logFrobeniusNorm = log₁₀‖W‖_F²), alphaWeighted = alpha·logSpectralNorm,
stableRank = ‖W‖_F²/‖W‖₂²; for a convolution W is the pooled kh·kw slices (‖W‖₂ the largest slice's norm), so its
stable rank can exceed any one slice's rank. The summary is their means over the layers where each is defined.
`,
  options: {
    model: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    eigenvalues: { type: 'boolean' },
    chart: { type: 'string' },
  },
  async run(argv) {
    const { values: v } = parse(this, argv);
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const chart = outputOpt(v.chart, 'chart', '.svg');
    if (v.eigenvalues && !v.json) throw new InputError('--eigenvalues adds them to --json, which is not given');
    using model = openModel(required(v.model, 'model'), seed);
    let bar: Progress | undefined;
    const onProgress = v.json ? undefined : (_: number, total: number) => {
      bar ??= progress({ total, label: 'spectra: layers' });
      bar.tick();
    };
    let result: ReturnType<typeof weightSpectra>;
    try {
      result = weightSpectra(model, { onProgress });
    } finally {
      bar?.done();
    }
    const { layers, summary } = result;
    const undefinedMeans = SUMMARY_FIELDS.filter((f) => Number.isNaN(summary[f])).map((f) => `summary.${f}: defined on no layer`);
    if (chart !== undefined) writeFileAtomic(chart, await renderSvg(esdChart(`ESD of ${model.label}`, layers)));
    if (v.json) {
      const rows = layers.map(({ eigenvalues, ...rest }) => (v.eigenvalues ? { ...rest, eigenvalues: Array.from(eigenvalues) } : rest));
      console.log(JSON.stringify({ model: model.label, layers: rows, summary, undefined: undefinedMeans }));
      return 0;
    }
    const table = formatTable(
      ['layer', 'shape', 'alpha', 'alphaWeighted', 'stableRank', 'logSpectralNorm', 'logFrobeniusNorm', 'lambdaMax'],
      layers.map((l) => [l.name, `[${l.shape}]`, l.alpha, l.alphaWeighted, l.stableRank, l.logSpectralNorm, l.logFrobeniusNorm, l.lambdaMax]),
    );
    const means = formatTable(['mean over layers', 'value'], SUMMARY_FIELDS.map((f) => [f, summary[f]]));
    const notes = layers.flatMap((l) => l.notes.map((n) => `${l.name}: ${n}`)).concat(undefinedMeans);
    console.log(
      `${model.label}: ${layers.length} weight layers; ESD of X = WᵀW/N, log₁₀ of squared norms${
        chart === undefined ? '' : `; chart ${chart}`
      }\n\n${table}\n\n${means}\n${notes.map((n) => `\n${n}`).join('')}`,
    );
    return 0;
  },
};
