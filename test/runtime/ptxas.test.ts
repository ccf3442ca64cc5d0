import { describe, expect, it } from 'vitest';
import { parsePtxasInfo } from '../../src/runtime/index.js';

// As NVRTC 13.0 prints it with --ptxas-options=-v (two kernels and a non-inlined device function).
const LOG = `ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'attn_fwd' for 'sm_90a'
ptxas info    : Function properties for attn_fwd
ptxas         .     16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
ptxas info    : Used 168 registers, used 1 barriers, 16 bytes stack frame, 2048 bytes smem, 400 bytes cmem[0]
ptxas info    : Function properties for helper
ptxas         .     32 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Compiling entry function '_Z4copyPf' for 'sm_90a'
ptxas info    : Function properties for _Z4copyPf
ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 10 registers, used 0 barriers, 360 bytes cmem[0]
ptxas info    : Compile time = 3.468 ms
`;

describe('parsePtxasInfo', () => {
  it('reads registers, spills, stack and shared memory per entry function', () => {
    expect(parsePtxasInfo(LOG)).toEqual({
      attn_fwd: { registers: 168, spillStoresBytes: 8, spillLoadsBytes: 12, stackFrameBytes: 16, sharedBytes: 2048 },
      _Z4copyPf: { registers: 10, spillStoresBytes: 0, spillLoadsBytes: 0, stackFrameBytes: 0, sharedBytes: 0 },
    });
  });
  it('gives nothing for a log without ptxas output', () => {
    expect(parsePtxasInfo('')).toEqual({});
    expect(parsePtxasInfo('kernel.cu(3): warning: unused variable')).toEqual({});
  });
});
