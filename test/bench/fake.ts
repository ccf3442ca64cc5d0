// A CPU stand-in for src/api: deterministic timings, scriptable failures, and a log of calls.
import type { AttentionConfig, BenchProvider, CheckResult, PreparedAttention } from '../../src/bench/types.js';
import type { Readiness } from '../../src/runtime/devices.js';

export interface FakeBehaviour {
  /** Throw from prepareAttention (compile failure, resource limit). */
  prepareError?: string;
  check?: Partial<CheckResult>;
  checkError?: string;
  timeError?: string;
  /** Samples returned by time(); default `iterations` samples around msFor(config). */
  samples?: number[];
  /** The kernel summary the prepared config reports (absent: none). */
  kernel?: string;
}

export interface FakeProvider extends BenchProvider {
  calls: { prepared: string[]; checked: string[]; timed: string[]; disposed: string[] };
}

export function configId(c: AttentionConfig): string {
  return `${c.schedule}/${c.load} ${c.dtype} ${c.batch}x${c.heads}x${c.seqLen}x${c.headDim}${c.causal ? ' causal' : ''}`;
}

export function flops(c: { batch: number; heads: number; seqLen: number; headDim: number; causal: boolean }): number {
  const f = 4 * c.batch * c.heads * c.seqLen * c.seqLen * c.headDim;
  return c.causal ? f / 2 : f;
}

/** ms such that every config runs at `tflops` TFLOP/s exactly at the median. */
export function msAt(c: AttentionConfig, tflops: number): number {
  return flops(c) / (tflops * 1e9);
}

export function fakeProvider(
  behave: (c: AttentionConfig) => FakeBehaviour = () => ({}),
  tflopsFor: (c: AttentionConfig) => number = () => 500,
  missing: () => Readiness = () => ({}),
): FakeProvider {
  const calls = { prepared: [] as string[], checked: [] as string[], timed: [] as string[], disposed: [] as string[] };
  return {
    calls,
    missing,
    flops,
    deviceName: () => 'Fake H100 <test>',
    async prepareAttention(config: AttentionConfig): Promise<PreparedAttention> {
      const b = behave(config);
      const id = configId(config);
      calls.prepared.push(id);
      if (b.prepareError) throw new Error(b.prepareError);
      return {
        config,
        ...(b.kernel ? { kernel: b.kernel } : {}),
        async check() {
          calls.checked.push(id);
          if (b.checkError) throw new Error(b.checkError);
          return { ok: true, relL2: 1e-3, maxAbs: 2e-3, nan: false, unwritten: 0, ...b.check };
        },
        async time({ iterations }) {
          calls.timed.push(id);
          if (b.timeError) throw new Error(b.timeError);
          if (b.samples) return b.samples;
          const ms = msAt(config, tflopsFor(config));
          // Symmetric spread around ms, so the median is exactly ms.
          return Array.from({ length: iterations }, (_, i) => ms * (1 + 0.01 * (i - (iterations - 1) / 2) / iterations));
        },
        dispose() {
          calls.disposed.push(id);
        },
      };
    },
  };
}
