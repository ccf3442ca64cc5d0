// The tensor API's `knobs` (checkRunKnobs, called before anything is allocated or launched) and
// choose()'s own check: a misspelt knob, `load` given as a knob, or a problem field given as a knob
// (it would be spread over the call's own causal / softcap / head dim when the kernel is chosen) is
// an error naming the key, never a silently different kernel.
import { describe, expect, it } from 'vitest';
import { checkRunKnobs } from '../../src/api/index.js';
import { choose, chooseFrom, KNOB_NAMES, variantKnobs } from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';

describe('tensor API knobs', () => {
  it('accepts every knob but load, and no knobs at all', () => {
    expect(() => checkRunKnobs(undefined)).not.toThrow();
    expect(() => checkRunKnobs({})).not.toThrow();
    for (const { knobs } of variantKnobs()) {
      const { load: _, ...rest } = knobs;
      expect(() => checkRunKnobs(rest)).not.toThrow();
    }
    expect(() => checkRunKnobs({ softcapTanh: 'approx', oStore: 'tma', hangTrap: true })).not.toThrow();
  });

  it('rejects a misspelt knob, load, a problem field and a non-object, naming the key', () => {
    expect(() => checkRunKnobs({ softcapTahn: 'approx' })).toThrow(/knobs.softcapTahn is not a kernel knob \(known: .*softcapTanh/);
    expect(() => checkRunKnobs({ load: 'cp.async' })).toThrow(/knobs.load: give the load kind as the 'load' option/);
    for (const field of ['causal', 'window', 'softcap', 'varlen', 'headDim', 'dtype', 'seqQ']) {
      expect(() => checkRunKnobs({ [field]: true }), field).toThrow(new RegExp(`knobs.${field} is not a kernel knob`));
    }
    expect(() => checkRunKnobs([])).toThrow(/knobs must be an object of kernel knobs, got an array/);
    expect(() => checkRunKnobs('tma')).toThrow(/knobs must be an object/);
    expect(() => checkRunKnobs(null)).toThrow(/knobs must be an object/);
  });

  it("choose() refuses a key that is not a knob (a misspelt one ran the default kernel before)", () => {
    expect(() => choose(NAMED.secondDot, { headDim: 128 }, { oStor: 'tma' } as never)).toThrow(/knobs.oStor is not a kernel knob/);
    for (const k of KNOB_NAMES) expect(() => choose(NAMED.secondDot, { headDim: 128, softcap: true }, { [k]: undefined })).not.toThrow();
    // chooseFrom splits the problem off first, so the one-object spelling still takes problem fields.
    expect(chooseFrom(NAMED.secondDot, { headDim: 128, causal: true, softcap: true, oStore: 'tma' }).causal).toBe(true);
  });
});
