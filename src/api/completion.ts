// One waiter per stream (issue #11, item 8): every attention call's Promise must resolve when its
// own work has finished, but a wait costs an event and a worker-thread round trip. Calls queued
// while a wait is in flight join the next batch, which one wait (an event recorded after all of
// their launches) settles together: N calls queued back to back cost about two waits, not N.
//
// Correctness rests on two facts: Stream.synchronizeAsync() records its event synchronously,
// when called, so the work it covers is exactly what was launched before that moment; and a
// stream runs its work in order. A call is put in a batch only after its launch, and a batch is
// only settled by a wait started after every launch in it.

/** What the queue needs of a stream (Stream satisfies it; the tests pass fakes). */
export interface Waitable {
  synchronizeAsync(): Promise<void>;
  /** Records (or re-records `reuse`) an event now: with it the queue polls before it hands off. */
  record?(reuse?: Pollable): Pollable;
}

/** An event as the queue uses it (runtime's Event). */
export interface Pollable {
  /** Done yet (cuEventQuery): never blocks; throws the CUDA error of failed work. */
  query(): boolean;
  /** Resolves when done, waiting on a worker thread. */
  wait(): Promise<void>;
}

/**
 * How long a wait polls its event from the event loop (one query per setImmediate turn, so timers
 * and I/O still run between polls) before it hands the wait to a worker thread. A worker's wake-up
 * and the hop back cost 20-50 us on the H100 hosts (bench/NOTES.md, session 6): a short kernel's
 * await would pay that on every call, where a poll sees the event within a few microseconds.
 * Longer work ends on the worker, where those microseconds no longer matter.
 */
export const POLL_BEFORE_WORKER_MS = 0.25;

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class CompletionQueue {
  readonly #stream: Waitable;
  #next: Waiter[] = [];
  #waiting = false;
  /** One event per queue, re-recorded for each wait (waits never overlap). */
  #event: Pollable | undefined;
  /** Waits started, for the tests and the overhead bench. */
  waits = 0;
  readonly #pollMs: number;

  /**
   * `pollMs`: how long a wait polls before the worker takes it (POLL_BEFORE_WORKER_MS; the tests
   * pass a long one where they count polls, so a slow event loop cannot move the wait early).
   */
  constructor(stream: Waitable, pollMs: number = POLL_BEFORE_WORKER_MS) {
    if (!(pollMs >= 0)) throw new RangeError(`CompletionQueue: pollMs must be a number >= 0, got ${pollMs}`);
    this.#stream = stream;
    this.#pollMs = pollMs;
  }

  /** Resolves once everything launched on the stream before this call has finished. */
  done(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#next.push({ resolve, reject });
      if (!this.#waiting) this.#start();
    });
  }

  #start(): void {
    const batch = this.#next;
    this.#next = [];
    this.#waiting = true;
    this.waits++;
    let wait: Promise<void>;
    try {
      wait = this.#wait(); // records the event now: it covers every launch in `batch`
    } catch (e) {
      wait = Promise.reject(e); // a disposed stream: the batch fails with its error
    }
    wait.then(
      () => batch.forEach((w) => w.resolve()),
      (e: unknown) => batch.forEach((w) => w.reject(e)),
    ).finally(() => {
      this.#waiting = false;
      if (this.#next.length) this.#start();
    });
  }

  /** Records an event now and settles when it completes: polled, then on a worker thread. */
  #wait(): Promise<void> {
    const s = this.#stream;
    if (!s.record) return s.synchronizeAsync();
    const ev = (this.#event = s.record(this.#event));
    const deadline = performance.now() + this.#pollMs;
    return new Promise<void>((resolve, reject) => {
      const poll = (): void => {
        try {
          if (ev.query()) resolve();
          else if (performance.now() > deadline) ev.wait().then(resolve, reject);
          else setImmediate(poll);
        } catch (e) {
          reject(e); // the work failed: its CUDA error
        }
      };
      setImmediate(poll);
    });
  }
}

const queues = new WeakMap<Waitable, CompletionQueue>();

/** The completion queue of a stream (one per stream object). */
export function completionOf(stream: Waitable): CompletionQueue {
  let q = queues.get(stream);
  if (!q) queues.set(stream, (q = new CompletionQueue(stream)));
  return q;
}
