/** `dltheory serve`: the dashboard (src/serve) over a run store and a folder of reports, until interrupted. */
import { InputError } from '../errors.js';
import { createServer } from '../serve/server.js';
import { numberOpt, parse, type Command } from './args.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'a dashboard of runs, populations and claims in the browser',
  usage: `
dltheory serve [--runs DIR] [--reports DIR] [--host 127.0.0.1] [--port 8080] [--token T]

  --runs DIR      the run store, opened read-only (default $DLTHEORY_RUNS, else ./runs)
  --reports DIR   a reproduce output folder, or a folder of them, for the Claims page
  --host H        the address to listen on; any but loopback (127.0.0.1, ::1, localhost) needs --token
  --port P        the port (default 8080; 0 picks a free one)
  --token T       a secret of at least 8 characters that every request must carry: the page's address
                  with ?token=T, or the header Authorization: Bearer T
`,
  options: { runs: { type: 'string' }, reports: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, token: { type: 'string' } },
  async run(argv) {
    const { values: v, positionals } = parse(this, argv);
    if (positionals.length) throw new InputError(`serve: unexpected arguments: ${positionals.join(' ')}`);
    const port = numberOpt(v.port, 'port', 8080, { integer: true, min: 0, max: 65535 });
    const host = (v.host as string | undefined) ?? '127.0.0.1';
    const token = v.token as string | undefined;
    const app = await createServer({ runs: v.runs as string | undefined, reports: v.reports as string | undefined, host, token });
    let address: string;
    try {
      address = await app.listen({ host, port });
    } catch (e) {
      await app.close();
      throw new InputError(`serve: cannot listen on ${host}:${port} (${(e as Error).message.split('\n')[0]})`);
    }
    process.stdout.write(`dltheory serve: ${address}/${token ? '?token=…' : ''} (Ctrl-C stops)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void app.close().then(() => resolve());
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
