import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, freePort } from '@troupe/redis/testing';
import { type TestCertificates, hasOpenssl, makeTestCertificates } from '@troupe/runtime/testkit';
import { capture } from './testing/capture.js';

/**
 * #14 (TLS and binding options on the CLI): `troupe inspect` and `troupe worker` reach a Redis that
 * only speaks TLS, verifying it with --redis-tls-ca, and presenting --redis-tls-cert/--redis-tls-key
 * when the server requires client certificates. The certificates are made here with openssl.
 */
const opensslThere = hasOpenssl();
if (!opensslThere) {
  const message = 'openssl is missing: the TLS tests of the CLI need it to make certificates';
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`\n!!! SKIPPED ${message}\n`);
}

let certificates: TestCertificates | undefined;
let server: RedisServer | undefined;
let port = 0;
const file = (name: 'ca' | 'client.crt' | 'client.key'): string =>
  name === 'ca' ? certificates!.ca : name === 'client.crt' ? certificates!.clientCert : certificates!.clientKey;

beforeAll(async () => {
  if (!opensslThere) return;
  certificates = makeTestCertificates();
  port = await freePort();
  // Only the TLS port listens (--port 0), and client certificates are required.
  server = await RedisServer.start({
    port,
    args: ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certificates.serverCert, '--tls-key-file', certificates.serverKey, '--tls-ca-cert-file', certificates.ca, '--tls-auth-clients', 'yes'],
  });
}, 60_000);

afterAll(async () => {
  await server?.destroy();
  certificates?.remove();
});


describe.skipIf(!opensslThere)('TLS to Redis from the CLI', () => {
  const inspect = (...tls: string[]) =>
    capture(['inspect', 'account', 'alice', '--redis', `rediss://127.0.0.1:${port}`, '--redis-prefix', 'tls', '--json', ...tls]);

  it('inspect reads through TLS with the CA and a client certificate', async () => {
    const result = await inspect('--redis-tls-ca', file('ca'), '--redis-tls-cert', file('client.crt'), '--redis-tls-key', file('client.key'));
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ actor: 'account:alice', heads: [] });
  });

  it('without the client certificate the server refuses, and the error says the store is unavailable', async () => {
    const result = await inspect('--redis-tls-ca', file('ca'));
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
    expect((await inspect('--redis-tls-ca', `${certificates!.dir}/nope.crt`)).err).toMatch(/--redis-tls-ca .*nope\.crt: no such file/);
  });
});
