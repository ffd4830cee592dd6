import { describe, expect, it } from 'vitest';
import { messageOf } from '../../../shared/error-message';

describe('messageOf', () => {
  it('returns the message of an Error and its subclasses', () => {
    expect(messageOf(new Error('boom'))).toBe('boom');
    expect(messageOf(new RangeError('out of range'))).toBe('out of range');
  });

  it('never yields undefined for values that are not Errors', () => {
    expect(messageOf('plain text')).toBe('plain text');
    expect(messageOf(42)).toBe('42');
    expect(messageOf(undefined)).toBe('undefined');
    expect(messageOf(null)).toBe('null');
    expect(messageOf({ code: 'EPIPE' })).toBe('[object Object]');
  });

  it('survives a value whose conversion to string throws', () => {
    const hostile = {
      toString(): string {
        throw new Error('no');
      },
    };
    expect(messageOf(hostile)).toBe('[object Object]');
    expect(messageOf(Object.create(null))).toBe('[object Object]');
  });
});
