/**
 * A single-consumer async queue. `coalesce` lets a newer item replace the last unread one of the
 * same kind (snapshots), so a slow reader sees the latest state rather than a backlog.
 */
export class EventQueue<T> {
  // A head index instead of shift(): shift is O(n), and a fast producer can buffer thousands.
  private items: T[] = [];
  private head = 0;
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((error: unknown) => void) | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;

  constructor(private readonly coalesce?: (last: T, next: T) => boolean) {}

  push(item: T): void {
    if (this.closed) return;
    if (this.waiter !== undefined) {
      const waiter = this.waiter;
      this.waiter = undefined;
      this.failWaiter = undefined;
      waiter({ done: false, value: item });
      return;
    }
    const last = this.items[this.items.length - 1];
    if (this.coalesce !== undefined && this.items.length > this.head && this.coalesce(last, item)) {
      this.items[this.items.length - 1] = item;
    } else this.items.push(item);
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
    if (this.failure !== undefined) failWaiter?.(this.failure.error);
    else waiter({ done: true, value: undefined });
  }

  /** Someone has asked for an item (so a failure pushed here is seen). */
  hasConsumer = false;

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
