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
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class CompletionQueue {
  readonly #stream: Waitable;
  #next: Waiter[] = [];
  #waiting = false;
  /** Waits started, for the tests and the overhead bench. */
  waits = 0;

  constructor(stream: Waitable) {
    this.#stream = stream;
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
      wait = this.#stream.synchronizeAsync(); // records the event now: it covers every launch in `batch`
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
}

const queues = new WeakMap<Waitable, CompletionQueue>();

/** The completion queue of a stream (one per stream object). */
export function completionOf(stream: Waitable): CompletionQueue {
  let q = queues.get(stream);
  if (!q) queues.set(stream, (q = new CompletionQueue(stream)));
  return q;
}
