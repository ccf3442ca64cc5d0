// From a validated problem to the kernel's launch: the grid, the four TMA descriptors (O's for the store) (4-D: element,
// token, head, batch, over the operands' own strides, so any layout is read without a copy) and the
// argument list in the kernel's order (codegen/abi.ts).
import { fastDivisor, gridFor, kernelParams, tailArgs, tileDivisors, tileSpace, type GeneratedKernel, type PtrArg } from '../codegen/index.js';
import { encodeTensorMap, type DeviceBuffer, type LaunchConfig, type TensorMap } from '../runtime/index.js';
import type { HalfDtype } from './half.js';

/** One 16-bit operand: where it starts and its element strides. */
export interface Operand {
  buffer: DeviceBuffer;
  offsetBytes: number;
  rowStride: number;
  headStride: number;
  batchStride: number;
}

export interface LaunchProblem {
  dtype: HalfDtype;
  batch: number;
  headsQ: number;
  headsKV: number;
  headDim: number;
  /** Per-sequence lengths; for packed sequences the longest ones (the grid follows seqQ). */
  seqQ: number;
  seqK: number;
  q: Operand;
  k: Operand;
  v: Operand;
  o: Operand;
  /** float32 LSE: row r of head h of batch b at offset + b * batchStride + h * headStride + r. */
  lse: { buffer: DeviceBuffer; offsetBytes: number; headStride: number; batchStride: number };
  /** Packed sequences: int32 cumulative lengths (batch + 1 each) and the token totals. */
  varlen: null | { cuSeqlensQ: PtrArg; cuSeqlensK: PtrArg; totalQ: number; totalK: number };
  /** Visible keys of query i: i + off - left .. i + off + right (off = seqK - seqQ); -1 = unbounded. */
  windowLeft: number;
  windowRight: number;
  scale: number;
  /** 0 = none. */
  softcap: number;
  /** A persistent kernel's device (grid and L2 sections) and tile counter (the dynamic scheduler's). */
  persistent?: { smCount: number; l2Bytes: number; tileCounter: DeviceBuffer; tailWorkspace?: DeviceBuffer };
}

function tensorMap(p: LaunchProblem, x: Operand, rows: number, heads: number, boxRows: number): TensorMap {
  const extentRows = p.varlen ? (x === p.q || x === p.o ? p.varlen.totalQ : p.varlen.totalK) : rows;
  const batch = p.varlen ? 1 : p.batch;
  return encodeTensorMap({
    dtype: p.dtype,
    buffer: x.buffer,
    offsetBytes: x.offsetBytes,
    dims: [p.headDim, Math.max(1, extentRows), heads, batch],
    // A packed tensor has one "batch": its stride is never stepped, any legal value will do.
    stridesBytes: [x.rowStride * 2, x.headStride * 2, (batch > 1 ? x.batchStride : Math.max(x.batchStride, 8)) * 2],
    box: [64, boxRows, 1, 1],
    swizzle: '128B',
    l2Promotion: '256B',
  });
}

/** Descriptors depend only on the operands and the tile: reused while both stay the same. */
export interface LaunchMaps {
  q: TensorMap;
  k: TensorMap;
  v: TensorMap;
  /** O, with Q's box: the TMA store's (rows past the sequence are not written). */
  o: TensorMap;
}

/**
 * The rows of each map's TMA box: all that the maps take from the kernel. A cache of maps must key
 * on this (not on blockN alone): kvShare 2 halves the K/V box, and a K/V map kept from a kvShare-2
 * kernel under a kvShare-1 kernel of the same blockN loads half of each tile, so its mbarrier never
 * sees the bytes it expects and the kernel hangs (session 18: the tensor API's map cache did this
 * when a call flipped causal on the same Q).
 */
export function mapBoxRows(kernel: GeneratedKernel): { q: number; kv: number; o: number } {
  // kvShare 2: each CTA of the pair loads half of a K/V tile's rows (and multicasts them).
  return { q: 64, kv: kernel.plan.blockN / kernel.plan.kvShare, o: 64 };
}

export function tensorMaps(kernel: GeneratedKernel, p: LaunchProblem): LaunchMaps {
  const box = mapBoxRows(kernel);
  return {
    q: tensorMap(p, p.q, p.seqQ, p.headsQ, box.q),
    k: tensorMap(p, p.k, p.seqK, p.headsKV, box.kv),
    v: tensorMap(p, p.v, p.seqK, p.headsKV, box.kv),
    o: outMap(p),
  };
}

/** O's map alone (a call with a fresh output keeps the others). */
export function outMap(p: LaunchProblem): TensorMap {
  return tensorMap(p, p.o, p.seqQ, p.headsQ, 64);
}

export function launchFor(kernel: GeneratedKernel, p: LaunchProblem, maps: LaunchMaps = tensorMaps(kernel, p)): LaunchConfig {
  const ptr = (x: { buffer: DeviceBuffer; offsetBytes: number }): PtrArg => ({ ptr: x.buffer, offsetBytes: x.offsetBytes });
  const softcap = p.softcap > 0;
  const plan = kernel.plan;
  const persistent = plan.scheduler !== 'grid';
  if (persistent && !p.persistent) throw new Error(`launchFor: the ${plan.scheduler} scheduler needs the device's SM count, L2 size and a tile counter`);
  const space = tileSpace({
    batch: p.batch, headsQ: p.headsQ, headsKV: p.headsKV, headDim: p.headDim, seqQ: p.seqQ, seqK: p.seqK,
    blockM: plan.blockM, masked: plan.causal || plan.window, l2Bytes: p.persistent?.l2Bytes ?? 0, ctas: p.persistent?.smCount ?? 1,
    kvShare: plan.kvShare,
  });
  // 4x the CTAs: splitTail's pieces (at most 4 per tile of the last round) are items past the tiles.
  if (space.numTiles > 0x7fffffff - 4 * (p.persistent?.smCount ?? 0)) throw new RangeError(`the problem has ${space.numTiles} query tiles; the kernel indexes at most 2^31 - 1`);
  // kvShare 2: clusters of two CTAs on query blocks 2i, 2i + 1 of one head (kernels/tiles.cuh decodePairTile).
  const grid = gridFor(plan.scheduler, space, p.persistent?.smCount ?? 1, plan.kvShare);
  return {
    grid,
    ...(plan.kvShare === 2 ? { cluster: [2, 1, 1] as [number, number, number] } : {}),
    block: [kernel.threads, 1, 1],
    sharedMemBytes: kernel.sharedMemBytes,
    params: kernelParams({
      tmQ: maps.q, tmK: maps.k, tmV: maps.v, tmO: maps.o,
      q: ptr(p.q), k: ptr(p.k), v: ptr(p.v), o: ptr(p.o), lse: ptr(p.lse),
      cuSeqlensQ: p.varlen?.cuSeqlensQ ?? null, cuSeqlensK: p.varlen?.cuSeqlensK ?? null,
      seqQ: p.seqQ, seqK: p.seqK, headsQ: p.headsQ, groupSize: p.headsQ / p.headsKV,
      qRow: p.q.rowStride, qHead: p.q.headStride, qBatch: p.q.batchStride,
      kRow: p.k.rowStride, kHead: p.k.headStride, kBatch: p.k.batchStride,
      vRow: p.v.rowStride, vHead: p.v.headStride, vBatch: p.v.batchStride,
      oRow: p.o.rowStride, oHead: p.o.headStride, oBatch: p.o.batchStride,
      lseHead: p.lse.headStride, lseBatch: p.lse.batchStride,
      windowLeft: p.windowLeft, windowRight: p.windowRight,
      scaleLog2: p.scale * Math.LOG2E,
      capScale: softcap ? p.scale / p.softcap : 0,
      capLog2: softcap ? p.softcap * Math.LOG2E : 0,
      numTiles: space.numTiles, qBlocks: space.qBlocks, headGroup: space.headGroup,
      ...tileDivisors(space, plan.kvShare === 2),
      divHeadsQ: fastDivisor(p.headsQ), divGroupSize: fastDivisor(p.headsQ / p.headsKV),
      ...tailArgs(space, grid[0], Math.ceil(p.seqK / plan.blockN), plan.kvShare, plan.splitTail && plan.scheduler === 'static'),
      tileCounter: plan.scheduler === 'dynamic' ? { ptr: p.persistent!.tileCounter, offsetBytes: 0 } : plan.splitTail ? { ptr: tailArg(kernel, p, grid[0]), offsetBytes: 0 } : null,
    }),
  };
}

/**
 * Bytes of splitTail's workspace for `grid` CTAs of `kernel` (kernels/attention.cuh mergeTail): 1024
 * int32 arrival counts, then a slot per CTA of (headDim / 2 + 4) floats per consumer thread.
 */
export function tailWorkspaceBytes(kernel: GeneratedKernel, grid: number): number {
  return 4096 + grid * (kernel.plan.headDim / 2 + 4) * 128 * kernel.plan.consumerWarpgroups * 4;
}

/** splitTail's workspace, checked against what the grid's pieces use (1024 counters and a slot per CTA). */
function tailArg(kernel: GeneratedKernel, p: LaunchProblem, grid: number): DeviceBuffer {
  const ws = p.persistent?.tailWorkspace;
  const need = tailWorkspaceBytes(kernel, grid);
  if (!ws || ws.bytes < need) throw new Error(`launchFor: splitTail needs a workspace of ${need} bytes for ${grid} CTAs (persistentArgs with the kernel), got ${ws ? ws.bytes : 'none'}`);
  if (grid > 1024) throw new RangeError(`splitTail: ${grid} CTAs; its workspace counts at most 1024 split tiles`);
  return ws;
}

/** [batch, heads, seqLen, headDim] contiguous (the buffer-level API's layout). */
export function contiguousBhnd(buffer: DeviceBuffer, heads: number, seqLen: number, headDim: number): Operand {
  return { buffer, offsetBytes: 0, rowStride: headDim, headStride: seqLen * headDim, batchStride: heads * seqLen * headDim };
}
