import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisServer, freePort } from '@troupe/redis/testing';
import { run } from './program.js';

/**
 * #14 (TLS and binding options on the CLI): `troupe inspect` and `troupe worker` reach a Redis that
 * only speaks TLS, verifying it with --redis-tls-ca, and presenting --redis-tls-cert/--redis-tls-key
 * when the server requires client certificates. The certificates are made here with openssl.
 */
let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
  const message = 'openssl is missing: the TLS tests of the CLI need it to make certificates';
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`\n!!! SKIPPED ${message}\n`);
}

const dir = mkdtempSync(join(tmpdir(), 'troupe-tls-'));
const file = (name: string) => join(dir, name);
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

let server: RedisServer | undefined;
let port = 0;

beforeAll(async () => {
  if (!hasOpenssl) return;
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '1', '-subj', '/CN=troupe-test-ca');
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${who}.key`), '-out', file(`${who}.csr`), '-subj', '/CN=127.0.0.1');
    openssl('x509', '-req', '-in', file(`${who}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file(`${who}.crt`), '-days', '1', '-extfile', file('ext.cnf'));
  }
  port = await freePort();
  // Only the TLS port listens (--port 0), and client certificates are required.
  server = await RedisServer.start({
    port,
    args: ['--port', '0', '--tls-port', String(port), '--tls-cert-file', file('server.crt'), '--tls-key-file', file('server.key'), '--tls-ca-cert-file', file('ca.crt'), '--tls-auth-clients', 'yes'],
  });
}, 60_000);

afterAll(async () => {
  await server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const code = await run(argv);
    return { code, out: log.mock.calls.map((c) => String(c[0])).join('\n'), err: error.mock.calls.map((c) => String(c[0])).join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe.skipIf(!hasOpenssl)('TLS to Redis from the CLI', () => {
  const inspect = (...tls: string[]) =>
    capture(['inspect', 'account', 'alice', '--redis', `rediss://127.0.0.1:${port}`, '--redis-prefix', 'tls', '--json', ...tls]);

  it('inspect reads through TLS with the CA and a client certificate', async () => {
    const result = await inspect('--redis-tls-ca', file('ca.crt'), '--redis-tls-cert', file('client.crt'), '--redis-tls-key', file('client.key'));
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ actor: 'account:alice', heads: [] });
  });

  it('without the client certificate the server refuses, and the error says the store is unavailable', async () => {
    const result = await inspect('--redis-tls-ca', file('ca.crt'));
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/STORE_UNAVAILABLE|unavailable/i);
  });

  it('without the CA the server certificate is not trusted', async () => {
    const result = await inspect('--redis-tls-cert', file('client.crt'), '--redis-tls-key', file('client.key'));
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/certificate|unavailable/i);
  });

  it('a certificate without its key, or a missing file, is a one-line usage error', async () => {
    expect((await inspect('--redis-tls-cert', file('client.crt'))).err).toMatch(/--redis-tls-cert and --redis-tls-key go together/);
    expect((await inspect('--redis-tls-ca', file('nope.crt'))).err).toMatch(/--redis-tls-ca .*nope\.crt: no such file/);
  });
});
