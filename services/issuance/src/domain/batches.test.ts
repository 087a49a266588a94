import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchIdFromKey } from './batches.ts';

describe('batchIdFromKey', () => {
  it('is a deterministic RFC 4122 UUID per (partner, key), distinct across partners and keys', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), fc.string({ minLength: 1, maxLength: 255 }), (p1, p2, key) => {
        const id = batchIdFromKey(p1, key);
        expect(id).toMatch(uuid);
        expect(batchIdFromKey(p1, key)).toBe(id);
        if (p1 !== p2) expect(batchIdFromKey(p2, key)).not.toBe(id);
        expect(batchIdFromKey(p1, `${key}x`)).not.toBe(id);
      }),
    );
  });
});
