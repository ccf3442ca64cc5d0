// Reads the `--ptxas-options=-v` part of an NVRTC log: per entry function, its registers,
// spills, stack frame and static shared memory. Pure; lines it does not know are ignored.
//   ptxas info    : Compiling entry function 'k' for 'sm_90a'
//   ptxas info    : Function properties for k
//   ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
//   ptxas info    : Used 10 registers, used 1 barriers, 256 bytes smem, 360 bytes cmem[0]

export interface PtxasInfo {
  registers: number;
  spillStoresBytes: number;
  spillLoadsBytes: number;
  stackFrameBytes: number;
  sharedBytes: number;
}

/** Entry functions (by their possibly mangled names) in the order ptxas compiled them. */
export function parsePtxasInfo(log: string): Record<string, PtxasInfo> {
  const kernels: Record<string, PtxasInfo> = {};
  let entry: PtxasInfo | undefined; // the entry function being compiled
  let propertiesOf: string | undefined; // the function whose properties line comes next
  for (const line of log.split('\n')) {
    const compiling = /Compiling entry function '([^']+)'/.exec(line);
    if (compiling) {
      entry = { registers: 0, spillStoresBytes: 0, spillLoadsBytes: 0, stackFrameBytes: 0, sharedBytes: 0 };
      kernels[compiling[1]] = entry;
      continue;
    }
    const properties = /Function properties for (\S+)/.exec(line);
    if (properties) {
      propertiesOf = properties[1];
      continue;
    }
    const frame = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (frame && propertiesOf !== undefined) {
      const target = kernels[propertiesOf];
      if (target) {
        target.stackFrameBytes = Number(frame[1]);
        target.spillStoresBytes = Number(frame[2]);
        target.spillLoadsBytes = Number(frame[3]);
      }
      propertiesOf = undefined;
      continue;
    }
    const used = /Used (\d+) registers/.exec(line);
    if (used && entry) {
      entry.registers = Number(used[1]);
      const smem = /(\d+) bytes smem/.exec(line);
      entry.sharedBytes = smem ? Number(smem[1]) : 0;
    }
  }
  return kernels;
}
