// The call memo's option equality (tensor_attention.ts): a repeated attention() call skips its checks
// only when its options equal the last call's. CPU only; the GPU test in attention_tensor.gpu.test.ts
// checks the results of repeated calls.
import { describe, expect, it } from 'vitest';
import { sameOptions, snapshot } from '../../src/api/tensor_attention.js';

describe('call memo: options equality', () => {
  it('equal options, fresh objects or the same one, match', () => {
    const make = () => ({ causal: true, scale: 0.1, window: [8, 0] as [number, number], knobs: { scheduler: 'static' as const }, schedule: 'baseline' });
    expect(sameOptions(snapshot(make()), make())).toBe(true);
    const o = make();
    expect(sameOptions(snapshot(o), o)).toBe(true);
    expect(sameOptions(snapshot(undefined), undefined)).toBe(true);
    expect(sameOptions(snapshot(undefined), {})).toBe(true);
  });
  it('every kind of change is seen (negative controls)', () => {
    const o = { causal: false, window: [8, 0] as [number, number], knobs: { scheduler: 'static' as string } };
    const s = snapshot(o);
    expect(sameOptions(s, { ...o, causal: true })).toBe(false);
    expect(sameOptions(s, { window: o.window, causal: false, knobs: o.knobs })).toBe(false); // key order
    expect(sameOptions(s, { ...o, extra: 1 })).toBe(false);
    expect(sameOptions(s, { causal: false, window: o.window })).toBe(false);
    o.window[0] = 9; // edited in place after the call
    expect(sameOptions(s, o)).toBe(false);
    o.window[0] = 8;
    expect(sameOptions(s, o)).toBe(true);
    o.knobs.scheduler = 'dynamic';
    expect(sameOptions(s, o)).toBe(false);
    expect(sameOptions(snapshot({ scale: 0.5 }), { scale: '0.5' })).toBe(false);
    expect(sameOptions(snapshot({ window: [1, 2] }), { window: '[1,2]' })).toBe(false);
  });
  it('inherited options count (the checks read through the prototype chain), and values that cannot be serialised never match', () => {
    const defaults = { causal: false };
    const o = Object.assign(Object.create(defaults) as { causal: boolean; scale?: number }, { scale: 0.5 });
    const s = snapshot(o);
    expect(sameOptions(s, o)).toBe(true);
    defaults.causal = true; // edited through the prototype
    expect(sameOptions(s, o)).toBe(false);
    expect(sameOptions(snapshot({ knobs: { a: 1 } }), { knobs: { a: 1n } })).toBe(false);
  });
});
