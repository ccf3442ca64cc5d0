// The six ops of the forward-attention inner loop over KV tiles j, in canonical order.
// Canonical order breaks cluster ties, so it is part of a schedule's meaning: do not reorder.
export const OPS = ['loadK', 'loadV', 'MMA0', 'Softmax', 'MUL', 'MMA1'] as const;

export type OpName = (typeof OPS)[number];

export const OP_INDEX: Readonly<Record<OpName, number>> = Object.freeze(
  Object.fromEntries(OPS.map((op, i) => [op, i])) as Record<OpName, number>,
);

export function isOpName(name: string): name is OpName {
  return (OPS as readonly string[]).includes(name);
}
