// generate(): schedule + kernel config -> the CUDA source of one attention kernel, the headers
// NVRTC needs, and how to launch it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loopNest, resources, validate, type Schedule } from '../schedule/index.js';
import { checkConfig, defaultPingpong, defaultPShared, defaultWarpSpecialized, tileRegisterBudget, tileRegisters, type KernelConfig, type KernelConfigInput } from './config.js';
import { emitPipeline, KERNEL_NAME } from './emit.js';
import { makePlan, matmulsAdjacentInBody, pingpongTurn, type Plan } from './plan.js';
import { rsName, ssName, ssTransBName, wgmmaHeader } from './wgmma.js';

/** kernels/ sits at the package root, two levels above both src/codegen and dist/codegen. */
const KERNEL_DIR = fileURLToPath(new URL('../../kernels/', import.meta.url));
const STATIC_HEADERS = ['ptx.cuh', 'attention.cuh'] as const;

let staticHeaders: Record<string, string> | undefined;
function readStaticHeaders(): Record<string, string> {
  staticHeaders ??= Object.fromEntries(STATIC_HEADERS.map((n) => [n, readFileSync(KERNEL_DIR + n, 'utf8')]));
  return staticHeaders;
}

export interface GeneratedKernel {
  name: string;
  source: string;
  /** Header name -> contents, for NVRTC (or to write beside the source for nvcc). */
  headers: Record<string, string>;
  config: KernelConfig;
  plan: Plan;
  threads: number;
  /** Dynamic shared memory to request, including the slack for aligning the base to 1024 B. */
  sharedMemBytes: number;
}

const BLOCK_N_CHOICES = [128, 112, 96, 80, 64, 48, 32, 16];

/** Hopper's largest dynamic shared memory per block (227 KiB). */
const MAX_SHARED_BYTES = 232448;

type Tiling = Pick<KernelConfig, 'blockM' | 'blockN' | 'headDim' | 'pShared'>;

/** P tiles in shared memory: per tile and warpgroup, 64 rows x blockN 16-bit values. */
function pSharedBytes(cfg: Tiling, plan: Plan): number {
  return cfg.pShared ? plan.pTiles * (cfg.blockM / 64) * 64 * cfg.blockN * 2 : 0;
}

function sharedMemBytes(cfg: Tiling, plan: Plan): number {
  const tile = cfg.blockN * cfg.headDim * 2;
  const q = cfg.blockM * cfg.headDim * 2;
  const bars = 8 * (2 * plan.kBuffers + 2 * plan.vBuffers + 1);
  return 1024 + q + (plan.kBuffers + plan.vBuffers) * tile + pSharedBytes(cfg, plan) + bars;
}

function checkSharedMemory(cfg: KernelConfig, plan: Plan, scheduleName: string): number {
  const bytes = sharedMemBytes(cfg, plan);
  if (bytes > MAX_SHARED_BYTES) {
    const tile = cfg.blockN * cfg.headDim * 2;
    const p = cfg.pShared ? `, P ${pSharedBytes(cfg, plan)}` : '';
    throw new RangeError(
      `schedule ${scheduleName} with blockM=${cfg.blockM}, blockN=${cfg.blockN}, headDim=${cfg.headDim} needs ${bytes} B of shared memory ` +
        `(Q ${cfg.blockM * cfg.headDim * 2}, K ${plan.kBuffers} x ${tile}, V ${plan.vBuffers} x ${tile}${p}, barriers and alignment): ` +
        `Hopper allows ${MAX_SHARED_BYTES} B per block`,
    );
  }
  return bytes;
}

/**
 * The KV tile and pipeline plan: the largest tile that fits both the register budget for the tiles
 * this schedule keeps live and the shared-memory limit. With a producer warpgroup, where the
 * schedule's ring depths leave no room for that tile, the rings shrink to the fewest slots that
 * stay deadlock-free (the producer's loads are not placed by the schedule anyway).
 */
function chooseTiling(plans: Plan[], input: KernelConfigInput, ws: boolean, pShared: boolean): { plan: Plan; blockN: number } {
  const blockM = input.blockM ?? 128;
  const budget = tileRegisterBudget({ warpSpecialized: ws, pShared });
  const candidates =
    input.blockN !== undefined
      ? [input.blockN]
      : BLOCK_N_CHOICES.filter((blockN) => tileRegisters({ headDim: input.headDim, blockN, pShared }, plans[0].sTiles, plans[0].pTiles) <= budget);
  for (const blockN of candidates) {
    const plan = plans.find((p) => sharedMemBytes({ blockM, blockN, headDim: input.headDim, pShared }, p) <= MAX_SHARED_BYTES);
    if (plan) return { plan, blockN };
  }
  // Nothing fits: keep the schedule's plan and let checkConfig / checkSharedMemory name the rule.
  return { plan: plans[0], blockN: input.blockN ?? 16 };
}

function configBlock(cfg: KernelConfig, plan: Plan): string {
  const pack = cfg.dtype === 'f16' ? 'packF16' : 'packBF16';
  return [
    `constexpr int HEAD_DIM = ${cfg.headDim};`,
    `constexpr int BLOCK_M = ${cfg.blockM};`,
    `constexpr int BLOCK_N = ${cfg.blockN};`,
    `constexpr int NUM_WG = ${cfg.blockM / 64};`,
    `constexpr int K_BUFS = ${plan.kBuffers};`,
    `constexpr int V_BUFS = ${plan.vBuffers};`,
    `constexpr int S_TILES = ${plan.sTiles};`,
    `constexpr int P_TILES = ${plan.pTiles};`,
    `constexpr int A_TILES = ${plan.aTiles};`,
    `constexpr bool CAUSAL = ${cfg.causal};`,
    `#define SW_LOAD_TMA ${cfg.load === 'tma' ? 1 : 0}`,
    `#define SW_PRODUCER_WARP ${cfg.warpSpecialized ? 1 : 0}`,
    `#define SW_P_SHARED ${cfg.pShared ? 1 : 0}`,
    `#define SW_PINGPONG ${cfg.pingpong ? 1 : 0}`,
    `#define SW_OPAQUE_Q_DESC ${plan.sTiles > 1 || (cfg.warpSpecialized && !cfg.pingpong) ? 1 : 0}`,
    `#define PACK(lo, hi) ${pack}(lo, hi)`,
    `#define WGMMA_S ${ssName(cfg.blockN, cfg.dtype)}`,
    `#define WGMMA_O ${(cfg.pShared ? ssTransBName : rsName)(cfg.headDim, cfg.dtype)}`,
  ].join('\n');
}

export function generate(s: Schedule, input: KernelConfigInput): GeneratedKernel {
  validate(s);
  const nest = loopNest(s);
  const warpSpecialized = input.warpSpecialized ?? defaultWarpSpecialized(input);
  // A turn holds just the two matmuls, and the softmax after it does not wait on the turn's own S:
  // within the step (secondDot), or across the step boundary when S is consumed a step after its
  // matmul (two S tiles, firstDot).
  const res = resources(s);
  const turnHoldsMatmuls = matmulsAdjacentInBody(nest.body) || (pingpongTurn(nest.body) === 'wrap' && res.sTiles >= 2);
  const pingpong = input.pingpong ?? defaultPingpong(input, warpSpecialized === true, turnHoldsMatmuls);
  const options = { producerWarp: warpSpecialized === true, pingpong: pingpong === true };
  const plans = [makePlan(nest, res, input.load ?? 'tma', options)];
  if (warpSpecialized === true) {
    // Shallower rings, K first: a 2-slot K ring measured as fast as 3, a 2-slot V ring 20% slower
    // (firstDot, bench/NOTES.md).
    for (const ringLimit of [{ k: 2, v: res.vBuffers }, { k: 2, v: 2 }]) {
      if (ringLimit.k < res.kBuffers || ringLimit.v < res.vBuffers) plans.push(makePlan(nest, res, input.load ?? 'tma', { ...options, ringLimit }));
    }
  }
  const pShared = input.pShared ?? defaultPShared(res.sTiles, warpSpecialized === true, input.headDim);
  const { plan, blockN } = chooseTiling(plans, input, warpSpecialized === true, pShared === true);
  const cfg = checkConfig(input, { blockN, pingpong, warpSpecialized, pShared });
  const smem = checkSharedMemory(cfg, plan, s.name ?? 'custom');
  const threads = cfg.blockM * 2 + (cfg.warpSpecialized ? 128 : 0);
  const describe = s.name ?? 'custom';
  const source = [
    `// Generated by stagewise: schedule ${describe}, ${cfg.dtype}, head dim ${cfg.headDim}, ` +
      `${cfg.blockM}x${cfg.blockN} tiles, ${cfg.load} loads${cfg.causal ? ', causal' : ''}` +
      `${cfg.warpSpecialized ? ', producer warpgroup' : ''}${cfg.pingpong ? ', ping-pong' : ''}${cfg.pShared ? ', P in shared memory' : ''}.`,
    `// K/V buffers ${plan.kBuffers}/${plan.vBuffers}; S/P/alpha tiles ${plan.sTiles}/${plan.pTiles}/${plan.aTiles}; ` +
      `waits: softmax ${plan.waitSoftmax}, pack ${plan.waitPack}, mul ${plan.waitMul}.`,
    '#include "ptx.cuh"',
    '#include "wgmma.cuh"',
    configBlock(cfg, plan),
    '#include "attention.cuh"',
    '',
    `extern "C" __global__ void __launch_bounds__(${threads}, 1) ${KERNEL_NAME}(`,
    '    const __grid_constant__ TmaDesc tmQ, const __grid_constant__ TmaDesc tmK, const __grid_constant__ TmaDesc tmV,',
    '    const u16* __restrict__ gq, const u16* __restrict__ gk, const u16* __restrict__ gv,',
    '    u16* __restrict__ o, float* __restrict__ lse, int seqLen, float scaleLog2) {',
    '  extern __shared__ __align__(1024) unsigned char smemRaw[];',
    '  Ctx c;',
    '  c.base = (smemAddr(smemRaw) + 1023u) & ~1023u;',
    '  c.tid = threadIdx.x; c.wg = warpUniform(c.tid / 128); c.warp = c.tid / 32; c.lane = c.tid % 32;',
    '  c.bh = blockIdx.y;',
    // Causal CTAs with the most tiles start first, so the long ones don't trail the grid.
    `  const int qBlock = CAUSAL ? gridDim.x - 1 - blockIdx.x : blockIdx.x;`,
    '  c.m0 = qBlock * BLOCK_M;',
    '  c.seqLen = seqLen;',
    '  c.scaleLog2 = scaleLog2;',
    '  c.tmQ = &tmQ; c.tmK = &tmK; c.tmV = &tmV;',
    '  const size_t headOffset = (size_t)c.bh * seqLen * HEAD_DIM;',
    '  c.q = gq + headOffset; c.k = gk + headOffset; c.v = gv + headOffset;',
    '  const int T = numTiles(seqLen, c.m0);',
    '  c.tiles = T;',
    '  initBarriers(c);',
    ...(cfg.warpSpecialized
      ? [
          '  if (c.wg == NUM_WG) {',
          '    producerRegisters();',
          '    if (c.tid == PRODUCER_TID) producerLoop(c);',
          '    return;',
          '  }',
          '  consumerRegisters();',
        ]
      : ['  loadQ(c);']),
    '  Regs r;',
    '  initRegs(r);',
    ...emitPipeline(plan, cfg).map((x) => `  ${x}`),
    '  wgmmaWait<0>();',
    '  fenceO(r);',
    '  storeOutput(c, r, o, lse);',
    '}',
    '',
  ].join('\n');
  const headers = { ...readStaticHeaders(), 'wgmma.cuh': wgmmaHeader(cfg.blockN, cfg.headDim, cfg.dtype, cfg.pShared) };
  return { name: KERNEL_NAME, source, headers, config: cfg, plan, threads, sharedMemBytes: smem };
}
