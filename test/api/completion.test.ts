// The per-stream completion queue on a fake stream whose waits the test settles by hand: each
// call resolves only after a wait that started after it joined; calls queued during a wait share
// the next one; a failed wait rejects exactly its batch; a stream that throws fails its batch.
import { describe, expect, it } from 'vitest';
import { CompletionQueue, completionOf, type Waitable } from '../../src/api/completion.js';

class FakeStream implements Waitable {
  /** The waits started, in order, each with how many done() calls had joined before it. */
  waits: Array<{ resolve: () => void; reject: (e: unknown) => void; joinedBefore: number }> = [];
  joined = 0;
  throwNext: Error | null = null;
  synchronizeAsync(): Promise<void> {
    if (this.throwNext) {
      const e = this.throwNext;
      this.throwNext = null;
      throw e;
    }
    return new Promise((resolve, reject) => this.waits.push({ resolve, reject, joinedBefore: this.joined }));
  }
}

const flush = () => new Promise((r) => setImmediate(r));

function track(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(() => (t.state = 'resolved'), (e) => ((t.state = 'rejected'), (t.error = e)));
  return t;
}

describe('CompletionQueue: one wait per batch of queued calls', () => {
  it('a lone call waits once; calls queued meanwhile share the next wait, which starts after all of them', async () => {
    const s = new FakeStream();
    const q = new CompletionQueue(s);
    const join = () => (s.joined++, track(q.done()));
    const a = join();
    expect(s.waits).toHaveLength(1);
    const rest = Array.from({ length: 50 }, join);
    expect(s.waits).toHaveLength(1); // no new wait while one is in flight
    s.waits[0].resolve();
    await flush();
    expect(a.state).toBe('resolved');
    // The 50 were launched after the first wait's event: it must not settle them.
    expect(rest.every((t) => t.state === 'pending')).toBe(true);
    expect(s.waits).toHaveLength(2);
    expect(s.waits[1].joinedBefore).toBe(51); // started after every one of them joined
    s.waits[1].resolve();
    await flush();
    expect(rest.every((t) => t.state === 'resolved')).toBe(true);
    expect(q.waits).toBe(2);
  });

  it('a failed wait rejects its batch only; the next batch gets its own wait', async () => {
    const s = new FakeStream();
    const q = new CompletionQueue(s);
    const a = track(q.done());
    const b = track(q.done());
    const fault = new Error('CUDA_ERROR_LAUNCH_FAILED');
    s.waits[0].reject(fault);
    await flush();
    expect(a).toEqual({ state: 'rejected', error: fault });
    expect(b.state).toBe('pending');
    s.waits[1].resolve();
    await flush();
    expect(b.state).toBe('resolved');
  });

  it('a stream that throws when asked to wait (disposed) fails the batch with its error, and the queue goes on', async () => {
    const s = new FakeStream();
    const q = new CompletionQueue(s);
    s.throwNext = new TypeError('Stream.synchronizeAsync: Stream used after dispose()');
    const a = track(q.done());
    await flush();
    expect(a.state).toBe('rejected');
    expect((a.error as Error).message).toMatch(/used after dispose/);
    const b = track(q.done());
    s.waits[0].resolve();
    await flush();
    expect(b.state).toBe('resolved');
  });

  it('negative control: without batching each call would need its own wait (the fake counts them)', async () => {
    const s = new FakeStream();
    const calls = Array.from({ length: 5 }, () => track(s.synchronizeAsync()));
    expect(s.waits).toHaveLength(5);
    s.waits.forEach((w) => w.resolve());
    await flush();
    expect(calls.every((t) => t.state === 'resolved')).toBe(true);
    // One queue per stream object.
    expect(completionOf(s)).toBe(completionOf(s));
    expect(completionOf(new FakeStream())).not.toBe(completionOf(s));
  });
});

// A stream with events: the queue polls the event from the event loop first, then hands the wait
// to a worker (Event.wait) once POLL_BEFORE_WORKER_MS has passed.
class FakeEvent {
  queries = 0;
  waited = 0;
  constructor(public doneAfter: number, public fault: Error | null = null, public waitResult: Promise<void> = Promise.resolve()) {}
  query(): boolean {
    this.queries++;
    if (this.fault) throw this.fault;
    return this.queries > this.doneAfter;
  }
  wait(): Promise<void> {
    this.waited++;
    return this.waitResult;
  }
}
class PollStream implements Waitable {
  records = 0;
  constructor(public event: FakeEvent) {}
  synchronizeAsync(): Promise<void> {
    throw new Error('a stream with events is polled, not synchronised');
  }
  record(reuse?: unknown): FakeEvent {
    this.records++;
    if (this.records > 1) expect(reuse).toBe(this.event); // one event per queue, re-recorded
    return this.event;
  }
}

describe('CompletionQueue: polling before the worker', () => {
  it('short work: settled by polling, without a worker wait; the event is reused', async () => {
    const ev = new FakeEvent(3);
    const s = new PollStream(ev);
    // A 10 s budget: four event-loop turns never outlast it, however loaded the machine (with the
    // default 0.25 ms a busy CI host once handed this wait to the worker after fewer polls).
    const q = new CompletionQueue(s, 10_000);
    await q.done();
    expect(ev.queries).toBe(4);
    expect(ev.waited).toBe(0);
    ev.queries = 0;
    await q.done();
    expect(s.records).toBe(2);
  });
  it('long work: after the polling budget the wait moves to the worker (negative control: it never settles by polling)', async () => {
    let finish!: () => void;
    const ev = new FakeEvent(Infinity, null, new Promise<void>((r) => (finish = r)));
    const q = new CompletionQueue(new PollStream(ev));
    const t = track(q.done());
    const start = performance.now();
    while (ev.waited === 0 && performance.now() - start < 2000) await flush();
    expect(ev.waited).toBe(1);
    expect(t.state).toBe('pending'); // the worker's wait has not returned
    finish();
    await flush();
    expect(t.state).toBe('resolved');
  });
  it('the poll budget is checked: a negative or NaN one is refused', () => {
    expect(() => new CompletionQueue(new PollStream(new FakeEvent(0)), -1)).toThrow(/pollMs must be a number >= 0, got -1/);
    expect(() => new CompletionQueue(new PollStream(new FakeEvent(0)), Number.NaN)).toThrow(/pollMs/);
  });
  it('a zero budget hands the wait to the worker after one poll (negative control for the budget)', async () => {
    const ev = new FakeEvent(Infinity);
    const q = new CompletionQueue(new PollStream(ev), 0);
    await q.done();
    expect(ev.waited).toBe(1);
  });
  it('a fault seen by a poll rejects the batch with its error', async () => {
    const fault = new Error('CUDA_ERROR_ILLEGAL_ADDRESS');
    const q = new CompletionQueue(new PollStream(new FakeEvent(0, fault)));
    await expect(q.done()).rejects.toBe(fault);
  });
  it('timers keep firing while a wait polls', async () => {
    const ev = new FakeEvent(Infinity, null, new Promise<void>(() => {}));
    const q = new CompletionQueue(new PollStream(ev));
    void q.done();
    let fired = 0;
    await new Promise<void>((r) => setTimeout(() => (fired++, r()), 0));
    expect(fired).toBe(1);
  });
});
