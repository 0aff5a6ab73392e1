import { Webhook } from 'standardwebhooks';
import {
  SECRET_PREFIX,
  generateSecret,
  messageId,
  secretKey,
  signV1,
  signatureHeader,
  verifySignature,
} from './signing.js';

const body = JSON.stringify({ specversion: '1.0', id: 'evt-1', data: { note: 'Nguyễn 👩‍👩‍👧' } });

function headers(signature: string, id = 'msg_1', timestamp = Math.floor(Date.now() / 1000)) {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

describe('Standard Webhooks signing', () => {
  it('makes whsec_ secrets of 32 random bytes, each different', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a.startsWith(SECRET_PREFIX)).toBe(true);
    expect(secretKey(a)).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(() => secretKey('not-a-secret')).toThrow(TypeError);
  });

  it('signs as the standardwebhooks package verifies, and a wrong secret is refused', () => {
    const secret = generateSecret();
    const ts = Math.floor(Date.now() / 1000);
    const h = headers(signatureHeader([secretKey(secret)], 'msg_1', ts, body), 'msg_1', ts);

    expect(new Webhook(secret).verify(body, h)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, h)).toThrow();
    expect(() => new Webhook(secret).verify(body + ' ', h)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...h, 'webhook-id': 'msg_2' })).toThrow();
  });

  it('during a rotation the header carries two signatures, each verifying under its secret alone', () => {
    const current = generateSecret();
    const previous = generateSecret();
    const ts = Math.floor(Date.now() / 1000);
    const signature = signatureHeader([secretKey(current), secretKey(previous)], 'msg_9', ts, body);
    const h = headers(signature, 'msg_9', ts);

    expect(signature.split(' ')).toHaveLength(2);
    expect(signature.split(' ').every((s) => s.startsWith('v1,'))).toBe(true);
    expect(new Webhook(current).verify(body, h)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, h)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, h)).toThrow();
  });

  it('verifySignature accepts one of several signatures and refuses another key or message', () => {
    const key = secretKey(generateSecret());
    const other = secretKey(generateSecret());
    const header = signatureHeader([other, key], 'msg_3', 1_700_000_000, body);

    expect(verifySignature(key, header, 'msg_3', 1_700_000_000, body)).toBe(true);
    expect(verifySignature(other, header, 'msg_3', 1_700_000_000, body)).toBe(true);
    expect(verifySignature(secretKey(generateSecret()), header, 'msg_3', 1_700_000_000, body)).toBe(false);
    expect(verifySignature(key, header, 'msg_3', 1_700_000_001, body)).toBe(false);
    expect(signV1(key, 'msg_3', 1_700_000_000, body)).toBe(signV1(key, 'msg_3', 1_700_000_000, body));
  });

  it('gives one message id per webhook and position, the same every time', () => {
    const id = messageId('wh_01jabcdefghjkmnpqrstvwxyz0', 42);
    expect(id).toBe('msg_01jabcdefghjkmnpqrstvwxyz0_42');
    expect(messageId('wh_01jabcdefghjkmnpqrstvwxyz0', 42)).toBe(id);
    expect(messageId('wh_01jabcdefghjkmnpqrstvwxyz0', 43)).not.toBe(id);
    expect(messageId('wh_01jabcdefghjkmnpqrstvwxyz1', 42)).not.toBe(id);
  });
});
