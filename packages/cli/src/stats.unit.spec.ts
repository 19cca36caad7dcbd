import { describe, expect, it } from 'vitest';
import { quantile } from './stats.js';

describe('quantile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('is the value at rank ceil(q * n) of the ascending values', () => {
    expect(quantile(hundred, 0.5)).toBe(50);
    expect(quantile(hundred, 0.99)).toBe(99);
    expect(quantile(hundred, 0.995)).toBe(100);
    expect(quantile([10, 20, 30, 40], 0.25)).toBe(10);
    expect(quantile([10, 20, 30, 40], 0.26)).toBe(20);
    expect(quantile([10, 20, 30, 40, 50], 0.5)).toBe(30);
  });

  it('is always a measured value: no interpolation between two', () => {
    expect(quantile([1, 2], 0.5)).toBe(1);
    expect(quantile([1, 100], 0.75)).toBe(100);
  });

  it('takes q = 0 as the minimum and q = 1 as the maximum', () => {
    expect(quantile([3, 5, 8], 0)).toBe(3);
    expect(quantile([3, 5, 8], 1)).toBe(8);
    expect(quantile([7], 0)).toBe(7);
    expect(quantile([7], 0.5)).toBe(7);
    expect(quantile([7], 1)).toBe(7);
  });

  it('does not move an exact rank up because of binary rounding of q * n', () => {
    expect(0.07 * 100).not.toBe(7);
    expect(quantile(hundred, 0.07)).toBe(7);
    expect(quantile(hundred, 0.29)).toBe(29);
    expect(quantile(hundred, 0.57)).toBe(57);
  });

  it('is NaN for no values, and refuses a q outside 0..1', () => {
    expect(quantile([], 0.5)).toBeNaN();
    for (const q of [-0.01, 1.01, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => quantile([1, 2], q)).toThrow(RangeError);
  });

  it('keeps repeated values and negative numbers', () => {
    expect(quantile([-5, -5, 0, 0, 0, 9], 0.5)).toBe(0);
    expect(quantile([-5, -5, 0, 0, 0, 9], 0.2)).toBe(-5);
  });
});
