import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signatureOf } from './signing.ts';

/** The verification code docs/slots.md gives receivers, in one language, as written there. */
function documentedCode(language: 'node' | 'python'): string {
  const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../../../docs/slots.md'), 'utf8');
  const marker = `<!-- webhook-verification:${language}`;
  const after = doc.slice(doc.indexOf(marker));
  const code = /```[a-z]+\n([\s\S]*?)```/.exec(after)?.[1];
  if (doc.indexOf(marker) < 0 || !code) throw new Error(`docs/slots.md has no ${language} verification code after ${marker}`);
  return code;
}

type Verify = (secret: string, headers: Record<string, string>, rawBody: string | Buffer, toleranceSeconds?: number, nowSeconds?: number) => boolean;

async function nodeVerifier(): Promise<Verify> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'webhook-verify-')), 'verify.mjs');
  fs.writeFileSync(file, documentedCode('node'));
  const module = (await import(pathToFileURL(file).href)) as { verifyTowerWebhook: Verify };
  return module.verifyTowerWebhook;
}

const body = JSON.stringify({ id: 'evt_1', type: 'booking.state-changed', occurredAt: '2026-11-30T21:00:00+07:00', booking: { plate: '桂A12345' } });

describe('webhook signatures', () => {
  const secret = newWebhookSecret();
  const now = Math.floor(Date.now() / 1000);
  const timestamp = String(now);
  const headers = { 'tower-webhook-timestamp': timestamp, 'tower-webhook-signature': signatureOf(secret, timestamp, body) };

  it('are v1= and the hex HMAC-SHA256 of timestamp.body keyed with the whole secret', () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    // An independent vector: HMAC-SHA256(key "whsec_test", "1796050800.{\"a\":1}").
    const python = spawnSync('python3', ['-c', 'import hmac,hashlib;print(hmac.new(b"whsec_test", b"1796050800.{\\"a\\":1}", hashlib.sha256).hexdigest())'], { encoding: 'utf8' });
    expect(signatureOf('whsec_test', '1796050800', '{"a":1}')).toBe(`v1=${python.stdout.trim()}`);
  });

  it('pass the documented Node verification, and a changed body, secret or an old timestamp do not', async () => {
    const verify = await nodeVerifier();
    expect(verify(secret, headers, body)).toBe(true);
    expect(verify(secret, headers, Buffer.from(body))).toBe(true);
    expect(verify(secret, headers, body.replace('桂A12345', '桂A12346'))).toBe(false);
    expect(verify(newWebhookSecret(), headers, body)).toBe(false);
    expect(verify(secret, headers, body, 300, now + 301)).toBe(false);
    expect(verify(secret, { ...headers, 'tower-webhook-signature': 'v1=00' }, body)).toBe(false);
    expect(verify(secret, { 'tower-webhook-signature': headers['tower-webhook-signature'] }, body)).toBe(false);
  });

  it('pass the documented Python verification, and a changed body does not', () => {
    const run = (payload: string) =>
      spawnSync('python3', ['-c', `${documentedCode('python')}\nimport json, sys\nh = json.loads(sys.argv[1])\nprint(verify_tower_webhook(sys.argv[2], h, sys.stdin.buffer.read()))`, JSON.stringify(headers), secret], { input: Buffer.from(payload), encoding: 'utf8' });
    const good = run(body);
    expect(good.stderr).toBe('');
    expect(good.stdout.trim()).toBe('True');
    expect(run(`${body} `).stdout.trim()).toBe('False');
  });
});
