// Generates the wgmma.mma_async wrappers: their operand lists (N/2 accumulators) are built from a
// table here instead of being typed out by hand.

export type Dtype = 'f16' | 'bf16';

/** Largest accumulator count a single wrapper may bind (m64n256 -> 128 f32 registers). */
const MAX_N = 256;

function checkN(n: number): void {
  if (!Number.isInteger(n) || n < 8 || n > MAX_N || n % 8 !== 0) {
    throw new RangeError(`wgmma N must be a multiple of 8 in 8..${MAX_N}, got ${n}`);
  }
}

function accList(count: number, first = 0): string {
  return Array.from({ length: count }, (_, i) => `%${first + i}`).join(', ');
}

function accConstraints(count: number): string {
  return Array.from({ length: count }, (_, i) => `"+f"(d[${i}])`).join(', ');
}

export function ssName(n: number, dtype: Dtype): string {
  return `wgmmaSS_m64n${n}k16_${dtype}`;
}

export function rsName(n: number, dtype: Dtype): string {
  return `wgmmaRS_m64n${n}k16_${dtype}`;
}

/** The P V product with P in shared memory: both operands from descriptors, B transposed. */
export function ssTransBName(n: number, dtype: Dtype): string {
  return `wgmmaSSt_m64n${n}k16_${dtype}`;
}

function instruction(n: number, dtype: Dtype): string {
  checkN(n);
  return `wgmma.mma_async.sync.aligned.m64n${n}k16.f32.${dtype}.${dtype}`;
}

/**
 * A wrapper with both operands in shared memory (descriptors). `transB`: B is MN-major. `scaleD`:
 * 'operand' takes scaleD as an argument (0 overwrites D), 'one' always accumulates.
 */
function wgmmaShared(name: string, n: number, dtype: Dtype, transB: boolean, scaleD: 'operand' | 'one'): string {
  const instr = instruction(n, dtype);
  const regs = n / 2;
  const operand = scaleD === 'operand';
  return [
    `SW_DEVICE void ${name}(float (&d)[${regs}], u64 descA, u64 descB${operand ? ', int scaleD' : ''}) {`,
    `  asm volatile(`,
    `      "{\\n.reg .pred p;\\n${operand ? `setp.ne.b32 p, %${regs + 2}, 0;` : 'setp.eq.u32 p, 1, 1;'}\\n"`,
    `      "${instr} {${accList(regs)}}, %${regs}, %${regs + 1}, p, 1, 1, 0, ${transB ? 1 : 0};\\n}"`,
    `      : ${accConstraints(regs)}`,
    `      : "l"(descA), "l"(descB)${operand ? ', "r"(scaleD)' : ''});`,
    `}`,
  ].join('\n');
}

/** D(64xN, f32) (+)= A(64x16, smem, K-major) * B(16xN, smem, K-major); scaleD = 0 overwrites D. */
export function wgmmaSS(n: number, dtype: Dtype): string {
  return wgmmaShared(ssName(n, dtype), n, dtype, false, 'operand');
}

/**
 * D(64xN, f32) (+)= A(64x16, registers) * B(16xN, smem, MN-major: transpose-b = 1). `scaleD`
 * 'operand' takes scaleD as an argument (0 overwrites D: the rotated tile loop's first P V product,
 * whose O is never zeroed, emit.ts crossTileStep), 'one' always accumulates. Only the rotated loop
 * calls the operand forms: with the predicate a constant, ptxas still scheduled 4 of 79 kernels
 * differently (session 13), so every other kernel keeps the constant form.
 */
function wgmmaRegs(name: string, n: number, dtype: Dtype, scaleD: 'operand' | 'one'): string {
  const instr = instruction(n, dtype);
  const regs = n / 2;
  const a = [0, 1, 2, 3].map((i) => `%${regs + i}`).join(', ');
  const operand = scaleD === 'operand';
  return [
    `SW_DEVICE void ${name}(float (&d)[${regs}], u32 a0, u32 a1, u32 a2, u32 a3, u64 descB${operand ? ', int scaleD' : ''}) {`,
    `  asm volatile(`,
    // scale-d is a predicate operand: true accumulates into D, false overwrites it.
    `      "{\\n.reg .pred p;\\n${operand ? `setp.ne.b32 p, %${regs + 5}, 0;` : 'setp.eq.u32 p, 1, 1;'}\\n"`,
    `      "${instr} {${accList(regs)}}, {${a}}, %${regs + 4}, p, 1, 1, 1;\\n}"`,
    `      : ${accConstraints(regs)}`,
    `      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(descB)${operand ? ', "r"(scaleD)' : ''});`,
    `}`,
  ].join('\n');
}

/** D(64xN, f32) += A(64x16, registers) * B(16xN, smem, MN-major: transpose-b = 1). */
export function wgmmaRS(n: number, dtype: Dtype): string {
  return wgmmaRegs(rsName(n, dtype), n, dtype, 'one');
}

/** wgmmaRS with scaleD (0 overwrites D). */
export function wgmmaRSD(n: number, dtype: Dtype): string {
  return wgmmaRegs(`${rsName(n, dtype)}_d`, n, dtype, 'operand');
}

/** D(64xN, f32) += A(64x16, smem, K-major) * B(16xN, smem, MN-major: transpose-b = 1). */
export function wgmmaSSTransB(n: number, dtype: Dtype): string {
  return wgmmaShared(ssTransBName(n, dtype), n, dtype, true, 'one');
}

/** wgmmaSSTransB with scaleD (0 overwrites D). */
export function wgmmaSSTransBD(n: number, dtype: Dtype): string {
  return wgmmaShared(`${ssTransBName(n, dtype)}_d`, n, dtype, true, 'operand');
}

/**
 * The generated header: S = Q K^T (both operands in shared memory) and both forms of O += P V (P
 * from registers, P from shared memory), named by role so the P-path policies of variants.cuh can
 * call theirs without a variant #if; only the one the plan's policy calls is instantiated.
 */
export function wgmmaHeader(sN: number, oN: number, dtype: Dtype): string {
  return [
    '// wgmma.cuh: generated by stagewise (src/codegen/wgmma.ts); do not edit.',
    '#pragma once',
    wgmmaSS(sN, dtype),
    wgmmaRS(oN, dtype),
    wgmmaRSD(oN, dtype),
    wgmmaSSTransB(oN, dtype),
    wgmmaSSTransBD(oN, dtype),
    [
      `#define WGMMA_S ${ssName(sN, dtype)}`,
      `#define WGMMA_O_REGS ${rsName(oN, dtype)}`,
      `#define WGMMA_O_REGS_D ${rsName(oN, dtype)}_d`,
      `#define WGMMA_O_SHARED ${ssTransBName(oN, dtype)}`,
      `#define WGMMA_O_SHARED_D ${ssTransBName(oN, dtype)}_d`,
    ].join('\n'),
    '',
  ].join('\n\n');
}
