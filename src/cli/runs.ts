/** `dltheory runs ls|show`: the run store. */
import { InputError } from '../errors.js';
import { openStore } from '../store/runs.js';
import { formatTable } from '../report/progress.js';
import { numberOpt, parse, type Command } from './args.js';

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list or show recorded runs',
  usage: `
dltheory runs ls [--kind K] [--tag PREFIX] [--limit N] [--json] [--runs DIR]
dltheory runs show ID [--json] [--runs DIR]
`,
  options: { kind: { type: 'string' }, tag: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, runs: { type: 'string' } },
  async run(argv) {
    const { values: v, positionals: [sub, id, ...extra] } = parse(this, argv);
    if (extra.length) throw new InputError(`runs: unexpected arguments: ${extra.join(' ')}`);
    if (sub !== 'ls' && sub !== 'show') throw new InputError(`runs: expected 'ls' or 'show', got '${sub ?? ''}'`);
    using store = openStore(v.runs as string | undefined, { existing: true });
    if (sub === 'ls') {
      const limit = numberOpt(v.limit, 'limit', 50, { integer: true, min: 1 });
      let runs = v.tag ? store.findByTag(v.tag as string) : store.listRuns({ kind: v.kind as string | undefined, limit });
      if (v.tag && v.kind) runs = runs.filter((r) => r.kind === v.kind);
      runs = runs.slice(0, limit);
      if (v.json) console.log(JSON.stringify(runs));
      else console.log(
          formatTable(['id', 'kind', 'spec', 'data', 'train acc', 'test acc', 'tag'],
            runs.map((r) => [r.id, r.kind, r.spec, r.data, r.final.trainAccuracy ?? NaN, r.final.testAccuracy ?? NaN, r.tag ?? ''])),
        );
      return 0;
    }
    if (!id) throw new InputError('runs show: give a run id');
    const found = store.getRun(id);
    if (!found) throw new InputError(`runs show: no run '${id}' in ${store.dir}`);
    if (v.json) console.log(JSON.stringify(found));
    else {
      const { run, epochs } = found;
      console.log(`${run.id}  ${run.kind}  ${run.spec}  ${run.data}  seed ${run.seed}  created ${run.created}`);
      console.log(`hparams ${JSON.stringify(run.hparams)}`);
      console.log(`final ${JSON.stringify(run.final)}`);
      if (run.weights) console.log(`weights ${store.dir}/${run.weights}`);
      const keys = [...new Set(epochs.flatMap((e) => Object.keys(e.metrics)))].filter((k) => k !== 'epoch');
      console.log(formatTable(['epoch', ...keys], epochs.map((e) => [e.epoch, ...keys.map((k) => e.metrics[k] ?? NaN)])));
    }
    return 0;
  },
};
