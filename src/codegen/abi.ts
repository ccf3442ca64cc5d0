// The attention kernel's parameters: one table, read by the emitter (the C++ signature) and by the
// launch (the argument list), so the two cannot disagree on order or type.
import type { KernelParam, TensorMap } from '../runtime/index.js';

type Kind = 'tensorMap' | 'ptr' | 'i32' | 'f32' | 'i64';

const PARAMS = [
  ['tmQ', 'tensorMap', 'const __grid_constant__ TmaDesc'],
  ['tmK', 'tensorMap', 'const __grid_constant__ TmaDesc'],
  ['tmV', 'tensorMap', 'const __grid_constant__ TmaDesc'],
  // O's map (Q's box), for the TMA store (oStore 'tma'); encoded for every kernel.
  ['tmO', 'tensorMap', 'const __grid_constant__ TmaDesc'],
  ['q', 'ptr', 'const u16* __restrict__'],
  ['k', 'ptr', 'const u16* __restrict__'],
  ['v', 'ptr', 'const u16* __restrict__'],
  ['o', 'ptr', 'u16* __restrict__'],
  ['lse', 'ptr', 'float* __restrict__'],
  // Packed sequences: batch + 1 cumulative lengths each (0 when not packed).
  ['cuSeqlensQ', 'ptr', 'const int* __restrict__'],
  ['cuSeqlensK', 'ptr', 'const int* __restrict__'],
  // Fixed lengths (packed: unused; each sequence's come from cuSeqlens).
  ['seqQ', 'i32', 'int'],
  ['seqK', 'i32', 'int'],
  ['headsQ', 'i32', 'int'],
  /** Query heads per K/V head (grouped-query attention; 1 for multi-head). */
  ['groupSize', 'i32', 'int'],
  // Element strides: between tokens, heads and batch entries, per operand; LSE's per head and batch.
  ['qRow', 'i64', 'long long'], ['qHead', 'i64', 'long long'], ['qBatch', 'i64', 'long long'],
  ['kRow', 'i64', 'long long'], ['kHead', 'i64', 'long long'], ['kBatch', 'i64', 'long long'],
  ['vRow', 'i64', 'long long'], ['vHead', 'i64', 'long long'], ['vBatch', 'i64', 'long long'],
  ['oRow', 'i64', 'long long'], ['oHead', 'i64', 'long long'], ['oBatch', 'i64', 'long long'],
  ['lseHead', 'i64', 'long long'], ['lseBatch', 'i64', 'long long'],
  // Visible keys of query i: i + off - windowLeft .. i + off + windowRight; -1 = unbounded.
  ['windowLeft', 'i32', 'int'],
  ['windowRight', 'i32', 'int'],
  ['scaleLog2', 'f32', 'float'],
  ['capScale', 'f32', 'float'],
  ['capLog2', 'f32', 'float'],
  // The tile space (src/codegen/scheduler.ts): a persistent grid walks it; a grid of one CTA per
  // tile ignores it.
  ['numTiles', 'i32', 'int'],
  ['qBlocks', 'i32', 'int'],
  ['headGroup', 'i32', 'int'],
  // Division magics (kernels/tiles.cuh fastDiv; scheduler.ts fastDivisor, tileDivisors): the tile
  // decode's three, then by headsQ and by groupSize.
  ['divSection', 'i64', 'unsigned long long'],
  ['divGroup', 'i64', 'unsigned long long'],
  ['divLastGroup', 'i64', 'unsigned long long'],
  ['divHeadsQ', 'i64', 'unsigned long long'],
  ['divGroupSize', 'i64', 'unsigned long long'],
  // splitTail (kernels/tiles.cuh tailPiece): the first work item that is a piece (fullUnits x kvShare;
  // numTiles when nothing is split) and log2 of the pieces per split unit (0 when nothing is split).
  ['tailFull', 'i32', 'int'],
  ['tailShift', 'i32', 'int'],
  /** The dynamic scheduler's two counters (zero between launches on a stream); splitTail's workspace; null otherwise. */
  ['tileCounter', 'ptr', 'int* __restrict__'],
] as const satisfies ReadonlyArray<readonly [string, Kind, string]>;

export type KernelArgName = (typeof PARAMS)[number][0];

/** A pointer argument: a buffer (with an offset), or none (a null pointer). */
export type PtrArg = Extract<KernelParam, { ptr: unknown }> | null;

export type KernelArgs = {
  [P in (typeof PARAMS)[number] as P[0]]: P[1] extends 'tensorMap' ? TensorMap
    : P[1] extends 'ptr' ? PtrArg
    : P[1] extends 'i64' ? number
    : number;
};

/** The C++ parameter list of the kernel. */
export function kernelSignature(): string {
  return PARAMS.map(([name, , ctype]) => `${ctype} ${name === 'q' || name === 'k' || name === 'v' ? `g${name}` : name}`).join(',\n    ');
}

/** The launch's argument list, in the kernel's order. */
export function kernelParams(args: KernelArgs): KernelParam[] {
  return PARAMS.map(([name, kind]): KernelParam => {
    const value = args[name];
    switch (kind) {
      case 'tensorMap':
        return { tensorMap: value as TensorMap };
      case 'ptr':
        return (value as PtrArg) ?? { u64: 0n };
      case 'i32':
        return { i32: value as number };
      case 'f32':
        return { f32: value as number };
      case 'i64': {
        const n = value as number;
        if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${n}`);
        return { u64: BigInt(n) };
      }
    }
  });
}
