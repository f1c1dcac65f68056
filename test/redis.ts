// A real redis-server for the queue tests: on a free loopback port, in a temporary folder, with its
// append-only file on (so that a restart keeps every job), a password, stopped by the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** Why the queue tests cannot run here, or undefined when redis-server is installed. */
export function redisMissing(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'redis-server is not installed (scripts/setup.sh installs it)';
}

/** A free TCP port on 127.0.0.1: bound by a server on port 0, which is closed again. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

export interface RedisServer {
  url: string;
  /** Stops the server (SIGTERM: it writes its append-only file and exits) and starts it again on the same port and folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const PASSWORD = 'queue-test';

/** Starts redis-server with its files in `dir`, and waits until it answers PING. */
export async function startRedis(dir: string): Promise<RedisServer> {
  const port = await freePort();
  let proc: ChildProcess;
  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--requirepass', PASSWORD],
      {
        stdio: 'ignore',
      });
    for (let i = 0;; i++) {
      const client = new Redis({ host: '127.0.0.1', port, password: PASSWORD, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      try {
        await client.connect();
        // A server still loading its append-only file answers LOADING.
        if ((await client.ping()) === 'PONG') return;
      } catch {
        if (i > 100) throw new Error(`redis-server on port ${port} did not answer PING in 10 s`);
      } finally {
        client.disconnect();
      }
      await new Promise((done) => setTimeout(done, 100));
    }
  };
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((done) => proc.once('exit', done));
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `redis://:${PASSWORD}@127.0.0.1:${port}`,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}
