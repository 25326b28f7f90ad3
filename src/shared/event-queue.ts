/**
 * A single-consumer async queue: the one queue of structream, used by the stream's consumers
 * (`for await`, `partials()`, `elements()`) and by the browser client's subscription.
 *
 * Bounded for snapshots: `merge` lets a newer item replace (or be merged into) the last unread
 * one, so a reader slower than the producer finds the latest partial value, not a backlog of
 * them. Reading is O(1): a head index instead of `shift()`, which is O(n) and made a fast
 * producer's backlog quadratic.
 *
 * @example
 * ```ts
 * const queue = new EventQueue<number>((last, next) => (last < 0 && next < 0 ? next : undefined));
 * queue.push(-1);
 * queue.push(-2); // replaces -1, unread
 * queue.close();
 * await queue.next(); // { done: false, value: -2 }
 * ```
 */
export class EventQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((error: unknown) => void) | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;

  /**
   * @param merge Called with the last unread item and a new one: returns the item that replaces
   * the last one (the new one, or both merged), or `undefined` to queue the new one after it.
   */
  constructor(private readonly merge?: (last: T, next: T) => T | undefined) {}

  /** Someone has asked for an item (so a failure pushed here is seen). */
  hasConsumer = false;

  /**
   * Called once, when the consumer is handed the end (done or the failure): a reader's cleanup
   * without a `.then` on every `next()`.
   */
  onEnd: (() => void) | undefined;

  private ended(): void {
    const onEnd = this.onEnd;
    this.onEnd = undefined;
    onEnd?.();
  }

  /** Items buffered and not yet read. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** True once `close`, `fail` or `cancel` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  push(item: T): void {
    if (this.closed) return;
    if (this.waiter !== undefined) {
      const waiter = this.waiter;
      this.waiter = undefined;
      this.failWaiter = undefined;
      waiter({ done: false, value: item });
      return;
    }
    const items = this.items;
    if (this.merge !== undefined && items.length > this.head) {
      const merged = this.merge(items[items.length - 1], item);
      if (merged !== undefined) {
        items[items.length - 1] = merged;
        return;
      }
    }
    items.push(item);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settle();
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = { error };
    this.settle();
  }

  private settle(): void {
    if (this.waiter === undefined || this.items.length > this.head) return;
    const waiter = this.waiter;
    const failWaiter = this.failWaiter;
    this.waiter = undefined;
    this.failWaiter = undefined;
    this.ended();
    if (this.failure !== undefined) failWaiter?.(this.failure.error);
    else waiter({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<T>> {
    this.hasConsumer = true;
    if (this.items.length > this.head) {
      const value = this.items[this.head++];
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.closed) {
      this.ended();
      if (this.failure !== undefined) return Promise.reject(this.failure.error);
      return Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  /** Drops what is buffered and ends the queue (the consumer went away). */
  cancel(): void {
    this.items = [];
    this.head = 0;
    this.close();
  }
}
