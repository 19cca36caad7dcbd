import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Server, type Socket, connect as connectTcp } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryStore, type UntypedRef } from '@troupe/runtime';
import { type TestCertificates, hasOpenssl, makeTestCertificates } from '@troupe/runtime/testkit';
import { connectBus } from './client/index.js';
import { BusUnavailableError } from './errors/index.js';
import { startWorker } from './worker/index.js';
import { SequenceLog } from './testing/sequenceActor.js';
import { deleteTopology, requireRabbitMq, testTopology } from './testing/amqpTest.js';

const run = promisify(execFile);
const available = await requireRabbitMq();
const ref = { type: SequenceLog.type, id: 'tls' } as UntypedRef;
const record = (seq: number) => ({ type: 'record', payload: { client: 'c', seq } });

/** Everything a check may print: the message, enumerable fields and the cause chain. */
function everything(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    parts.push(String(e.message), JSON.stringify(e));
  }
  return parts.join('\n');
}

/**
 * #14 guard rail 11 (TLS to the broker) and defect 4 (no secret in any log line, error or /metrics
 * output). The broker speaks plain AMQP on 5672; a TLS proxy made here (Node's tls server, requiring
 * client certificates) in front of it is what an `amqps://` client and worker talk to.
 */
describe.skipIf(!available || !hasOpenssl())('TLS to the broker, and credentials kept out of every output', () => {
  const t = testTopology(2);
  let certificates: TestCertificates;
  let proxy: Server;
  let port = 0;
  const user = `troupe-secret-${randomBytes(3).toString('hex')}`;
  const secret = `S3cret-${randomBytes(6).toString('hex')}`;
  let userCreated = false;

  beforeAll(async () => {
    certificates = makeTestCertificates();
    const sockets = new Set<Socket>();
    proxy = createTlsServer(
      { key: readFileSync(certificates.serverKey), cert: readFileSync(certificates.serverCert), ca: readFileSync(certificates.ca), requestCert: true, rejectUnauthorized: true },
      (client) => {
        const upstream = connectTcp(5672, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => s.destroy());
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      },
    );
    proxy.on('close', () => sockets.forEach((s) => s.destroy()));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    port = (proxy.address() as { port: number }).port;
    try {
      await run('rabbitmqctl', ['add_user', user, secret]);
      await run('rabbitmqctl', ['set_permissions', '-p', '/', user, '.*', '.*', '.*']);
      userCreated = true;
    } catch (error) {
      if (process.env.CI === 'true') throw error;
      console.warn(`\n!!! could not create a RabbitMQ user with rabbitmqctl (${(error as Error).message}): the secrets test is skipped\n`);
    }
  }, 60_000);

  afterAll(async () => {
    proxy?.close();
    certificates?.remove();
    if (userCreated) await run('rabbitmqctl', ['delete_user', user]).catch(() => undefined);
    await deleteTopology(t);
  });

  it('a worker and a client reach the broker over amqps:// with the CA and a client certificate', async () => {
    const tls = { ca: readFileSync(certificates.ca), cert: readFileSync(certificates.clientCert), key: readFileSync(certificates.clientKey) };
    const url = `amqps://guest:guest@127.0.0.1:${port}`;
    const worker = await startWorker({ url, tls, ...t, actors: [SequenceLog], store: new MemoryStore(), logger: pino({ level: 'silent' }), defaultMetrics: false });
    const bus = await connectBus({ url, tls, ...t, timeoutMs: 10_000 });
    try {
      expect(await bus.send(ref, record(1))).toMatchObject({ status: 'accepted' });
    } finally {
      await bus.close();
      await worker.stop();
    }
  });

  it('without the client certificate, or without the CA, the connection is refused with BusUnavailableError', async () => {
    const url = `amqps://guest:guest@127.0.0.1:${port}`;
    for (const tls of [{ ca: readFileSync(certificates.ca) }, { cert: readFileSync(certificates.clientCert), key: readFileSync(certificates.clientKey) }]) {
      const error = await connectBus({ url, tls, ...t }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BusUnavailableError);
    }
  });

  it('no log line, /metrics output or error shows the password, in any URL form', async () => {
    if (!userCreated) return;
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    const url = `amqp://${user}:${secret}@127.0.0.1:5672`;
    const worker = await startWorker({ url, ...t, actors: [SequenceLog], store: new MemoryStore(), logger, metricsPort: 0 });
    const bus = await connectBus({ url, ...t, timeoutMs: 10_000 });
    let metrics = '';
    try {
      expect(await bus.send(ref, record(2))).toMatchObject({ status: 'accepted' });
      metrics = await (await fetch(worker.metricsUrl!)).text();
    } finally {
      await bus.close();
      await worker.stop();
    }
    const errors: unknown[] = [];
    for (const wrong of [`amqp://${user}:${secret}x@127.0.0.1:5672`, `amqp://:${secret}@127.0.0.1:5672`, `amqp://${user}:${secret}@127.0.0.1:1`]) {
      errors.push(await connectBus({ url: wrong, ...t }).catch((e: unknown) => e));
      errors.push(await startWorker({ url: wrong, ...t, actors: [SequenceLog], logger, defaultMetrics: false }).catch((e: unknown) => e));
    }
    expect(lines.some((l) => l.includes("worker started"))).toBe(true);
    expect(metrics).toContain('troupe_commands_total');
    expect(errors.every((e) => e instanceof Error)).toBe(true);
    for (const text of [...lines, metrics, ...errors.map(everything)]) expect(text).not.toContain(secret);
    expect(errors.map((e) => (e as Error).message).join('\n')).toContain(`${user}:***@`);
  }, 60_000);
});
