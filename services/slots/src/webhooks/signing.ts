import { createHmac, randomBytes } from 'node:crypto';

/**
 * How a delivery is signed: `Tower-Webhook-Signature: v1=<hex HMAC-SHA256(secret,
 * timestamp + "." + body)>`, the timestamp being `Tower-Webhook-Timestamp` (seconds since
 * the epoch) and the key the secret's UTF-8 bytes, whole (`whsec_…`). docs/slots.md
 * holds the receivers' verification code; signing.test.ts runs it against this.
 */
export function signatureOf(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A new endpoint's secret: 32 random bytes, shown to the firm once. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
