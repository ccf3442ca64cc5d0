export interface TimingSummary {
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Every timed launch, in the order it ran (all rounds, round after round). */
  samplesMs: number[];
  /** With --rounds > 1: the median of each round, in round order (their spread shows drift). */
  roundMediansMs?: number[];
}

/** Median of a non-empty list; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarize(samplesMs: readonly number[]): TimingSummary {
  return {
    medianMs: median(samplesMs),
    minMs: Math.min(...samplesMs),
    maxMs: Math.max(...samplesMs),
    samplesMs: [...samplesMs],
  };
}

/** TFLOP/s from a FLOP count and milliseconds per launch: flops / (ms * 1e9). */
export function tflops(flops: number, ms: number): number {
  return flops / (ms * 1e9);
}
