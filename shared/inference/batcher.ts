/**
 * Micro-batching: concurrent callers each submit items; items arriving within `maxWaitMs` of the first one (or
 * until `maxBatch` items) go to the model as one call. One model call over 8 windows costs far less than 8 calls,
 * so under load throughput rises while a lone request waits at most `maxWaitMs`. A failed call shared by several
 * callers is retried per caller, so only the caller whose items fail is rejected.
 */
export interface BatcherOptions {
  /** Largest batch handed to `run`. */
  maxBatch: number;
  /** Longest a queued item waits for companions, ms. 0 = flush on the next macrotask. */
  maxWaitMs: number;
}

interface Pending<I, O> {
  items: I[];
  resolve: (out: O[]) => void;
  reject: (err: unknown) => void;
}

export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions,
  ) {}

  /** Submits a caller's items (e.g. all windows of one recording); resolves with their outputs in order. */
  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      if (this.queued >= this.options.maxBatch) this.flushSoon(0);
      else if (!this.timer) this.flushSoon(this.options.maxWaitMs);
    });
  }

  private flushSoon(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      // Batches run one after another: the model (wasm) is single-threaded anyway.
      this.running = this.running.then(() => this.flush());
    }, ms);
  }

  private async runChecked(items: I[]): Promise<O[]> {
    const out = await this.run(items);
    if (out.length !== items.length) throw new Error(`batch function returned ${out.length} outputs for ${items.length} inputs`);
    return out;
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      // Take whole callers until the batch is full; a caller larger than maxBatch goes alone.
      const take: Pending<I, O>[] = [];
      let n = 0;
      while (this.queue.length > 0 && (take.length === 0 || n + this.queue[0].items.length <= this.options.maxBatch)) {
        const p = this.queue.shift()!;
        take.push(p);
        n += p.items.length;
      }
      this.queued -= n;
      try {
        const out = await this.runChecked(take.flatMap((p) => p.items));
        let offset = 0;
        for (const p of take) {
          p.resolve(out.slice(offset, offset + p.items.length));
          offset += p.items.length;
        }
      } catch (err) {
        if (take.length === 1) take[0].reject(err);
        // One caller's bad input must not fail the others: each caller's items run again on their own.
        else for (const p of take) await this.runChecked(p.items).then(p.resolve, p.reject);
      }
      if (this.queued < this.options.maxBatch && this.queue.length > 0 && !this.timer) {
        // Leftovers smaller than a batch wait for companions like new arrivals do.
        this.flushSoon(this.options.maxWaitMs);
        return;
      }
    }
  }
}
