/**
 * `dltheory depth`: how deep is deep enough (Schilling et al. 2018)? The GDV after every layer of a
 * deep belief network trained without labels, or of MLPs of several depths trained by backprop
 * (src/experiments/depth.ts), and the depth where it is lowest.
 */
import { check } from '../errors.js';
import { openStore } from '../store/runs.js';
import { writeFileAtomic } from '../io/files.js';
import { lineChart, renderSvg } from '../report/chart.js';
import { formatTable } from '../report/progress.js';
import { dbnDepthCurves, lowest, mlpDepthCurves, type DepthSource } from '../experiments/depth.js';
import { choiceOpt, intListOpt, numberOpt, outputOpt, parse, type Command } from './args.js';

const log = (m: string) => process.stderr.write(`${m}\n`);

export const depthCommand: Command = {
  name: 'depth',
  summary: 'GDV after every layer of a deep belief network or of MLPs of several depths; recommends the depth (Schilling et al. 2018)',
  usage: `
dltheory depth --dbn [--layers 40] [--width 100] [--epochs 3] [--k 1] [--lr 0.05] [--momentum 0.9] [--weight-decay 2e-4]
                     [--batch 100] [--visible binary|gaussian] [--propagate probabilities|samples]
                     [--statistics probabilities|samples] [--pcd]   [common options]
dltheory depth --mlp [--depths 2,4,8] [--width 256] [--epochs 5] [--lr 1e-3] [--batch 128] [--runs DIR]   [common options]

common: [--data mnist] [--data-dir DIR] [--train-size N] [--gdv-points 1000] [--seed 0] [--json] [--chart FILE.svg]

  --dbn          L RBMs of width W stacked greedily, trained with CD-k without labels; the first RBM is
                 binary on inputs in [0, 1] (pixel intensities as probabilities) or Gaussian on z-scored inputs
  --propagate    what a layer passes up: hidden probabilities (default) or sampled binary states
  --statistics   the hidden units' part of the CD statistics: probabilities (default) or sampled states
  --pcd          persistent contrastive divergence (scikit-learn's BernoulliRBM) instead of CD-k
  --mlp          one MLP per depth (hidden layers of --width), Adam on standardised inputs, runs recorded in the store
  --gdv-points N GDV on the first N points of the test split (default 1000)
  --train-size N a seeded subset of the training split
  --json         {model, layers | curves, best}
  --chart        GDV per layer (DBN) or over relative depth, one line per depth (MLPs), as SVG
`,
  options: {
    dbn: { type: 'boolean' },
    mlp: { type: 'boolean' },
    layers: { type: 'string' },
    width: { type: 'string' },
    depths: { type: 'string' },
    epochs: { type: 'string' },
    k: { type: 'string' },
    lr: { type: 'string' },
    momentum: { type: 'string' },
    'weight-decay': { type: 'string' },
    batch: { type: 'string' },
    visible: { type: 'string' },
    propagate: { type: 'string' },
    statistics: { type: 'string' },
    pcd: { type: 'boolean' },
    data: { type: 'string' },
    'data-dir': { type: 'string' },
    'train-size': { type: 'string' },
    'gdv-points': { type: 'string' },
    seed: { type: 'string' },
    runs: { type: 'string' },
    json: { type: 'boolean' },
    chart: { type: 'string' },
  },
  async run(argv) {
    const { values: v, positionals } = parse(this, argv);
    const chartPath = outputOpt(v.chart, 'chart', '.svg');
    check(positionals.length === 0, `depth: unexpected argument '${positionals[0]}'`);
    check(Boolean(v.dbn) !== Boolean(v.mlp), 'depth: give --dbn or --mlp');
    const dbnOnly = ['layers', 'k', 'momentum', 'weight-decay', 'visible', 'propagate', 'statistics', 'pcd'].find((o) => v.mlp && v[o] !== undefined);
    check(dbnOnly === undefined, `--${dbnOnly} applies to --dbn only`);
    check(!(v.dbn && (v.depths !== undefined || v.runs !== undefined)), `--${v.depths !== undefined ? 'depths' : 'runs'} applies to --mlp only`);
    const seed = numberOpt(v.seed, 'seed', 0, { integer: true, min: 0 });
    const trainSize = v['train-size'] === undefined ? undefined : numberOpt(v['train-size'], 'train-size', 0, { integer: true, min: 2 });
    const samplePoints = numberOpt(v['gdv-points'], 'gdv-points', 1000, { integer: true, min: 4 });
    const epochs = numberOpt(v.epochs, 'epochs', v.dbn ? 3 : 5, { integer: true, min: 1 });
    const width = numberOpt(v.width, 'width', v.dbn ? 100 : 256, { integer: true, min: 1, max: 65536 });
    const batchSize = numberOpt(v.batch, 'batch', v.dbn ? 100 : 128, { integer: true, min: 1 });
    const lr = numberOpt(v.lr, 'lr', v.dbn ? 0.05 : 1e-3, { min: 0 });
    const dbn = v.dbn
      ? {
        layers: numberOpt(v.layers, 'layers', 40, { integer: true, min: 1, max: 1000 }),
        k: numberOpt(v.k, 'k', 1, { integer: true, min: 1 }),
        momentum: numberOpt(v.momentum, 'momentum', 0.9, { min: 0, max: 1 }),
        weightDecay: numberOpt(v['weight-decay'], 'weight-decay', 2e-4, { min: 0 }),
        visible: choiceOpt(v.visible, 'visible', ['binary', 'gaussian'] as const, 'binary'),
        propagate: choiceOpt(v.propagate, 'propagate', ['probabilities', 'samples'] as const, 'probabilities'),
        statistics: choiceOpt(v.statistics, 'statistics', ['probabilities', 'samples'] as const, 'probabilities'),
        persistent: Boolean(v.pcd),
      }
      : undefined;
    const depths = intListOpt(v.depths, 'depths', [2, 4, 8], { min: 1, max: 200 });

    const data = { name: (v.data as string | undefined) ?? 'mnist', seed, trainSize, dir: v['data-dir'] as string | undefined };
    const describe = (s: DepthSource) => `${s.name}: ${s.trainSize} train, GDV on ${s.samplePoints} test points`;
    let chart: ReturnType<typeof lineChart>;
    if (dbn) {
      const { source, curves: [{ layers: curve }] } = dbnDepthCurves(data, { points: samplePoints }, [{ width, epochs }], { ...dbn, batchSize, lr, seed }, log);
      const best = lowest(curve);
      if (v.json) console.log(JSON.stringify({ model: 'dbn', layers: curve, best: { layer: best.layer, gdv: best.gdv } }));
      else {
        console.log(`DBN, ${dbn.layers} layers of ${width} (${describe(source)}); GDV: more negative is better separated\n`);
        const rows = curve.map((l) => [l.name, l.dims, l.gdv, l.intra, l.inter, l.reconstructionError, l.saturation?.saturated, l.saturation?.meanActivation]);
        console.log(formatTable(['layer', 'dims', 'GDV', 'intra', 'inter', 'recon. error', 'saturated', 'mean p'], rows));
        const plural = best.layer === 1 ? '' : 's';
        console.log(`\nlowest GDV ${best.gdv.toFixed(4)} at layer ${best.layer}: recommended depth ${best.layer} layer${plural}`);
      }
      const points = curve.map((l) => ({ layer: l.layer, GDV: l.gdv }));
      chart = lineChart({ title: `GDV per layer, DBN of width ${width} (${describe(source)})`, x: 'layer', y: 'GDV', data: points });
    } else {
      using store = openStore(v.runs as string | undefined);
      const options = { depths, width, epochs, batchSize, lr, seed, samplePoints, progress: !v.json && process.stderr.isTTY };
      const { source, curves } = mlpDepthCurves(store, data, options, 'depth', log);
      const bests = curves.map((c) => ({ depth: c.depth, ...lowest(c.layers) }));
      const best = lowest(bests);
      if (v.json) console.log(JSON.stringify({ model: 'mlp', curves, best: { depth: best.depth, layer: best.layer, name: best.name, gdv: best.gdv } }));
      else {
        console.log(`MLPs of width ${width} trained by backprop (${describe(source)}); GDV: more negative is better separated\n`);
        const rows = curves.flatMap((c) => c.layers.map((l) => [c.depth, l.name, l.relativeDepth, l.dims, l.gdv]));
        console.log(formatTable(['depth', 'layer', 'relative depth', 'dims', 'GDV'], rows));
        const lines = curves.map((c, i) =>
          `depth ${c.depth}: test accuracy ${(100 * c.testAccuracy).toFixed(1)}%, ` +
          `lowest GDV ${bests[i].gdv.toFixed(4)} at ${bests[i].name}`
        );
        console.log(`\n${lines.join('\n')}`);
        console.log(`lowest GDV ${best.gdv.toFixed(4)}: recommended depth ${best.depth} hidden layers (at ${best.name})`);
      }
      const points = curves.flatMap((c) => c.layers.map((l) => ({ 'relative depth': l.relativeDepth, GDV: l.gdv, 'hidden layers': c.depth })));
      const title = `GDV over relative depth, MLPs trained by backprop (${describe(source)})`;
      chart = lineChart({ title, x: 'relative depth', y: 'GDV', series: 'hidden layers', data: points });
    }
    if (chartPath !== undefined) writeFileAtomic(chartPath, await renderSvg(chart));
    return 0;
  },
};
