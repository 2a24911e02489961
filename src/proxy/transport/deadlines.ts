/** Something with a deadline: the links are kept on the object itself, so a deadline allocates nothing. */
export interface DeadlineNode {
  /** performance.now() at which it is due. */
  dueAt: number;
  deadlineList: DeadlineList | undefined;
  previousDue: DeadlineNode | undefined;
  nextDue: DeadlineNode | undefined;
}

/**
 * All deadlines of one duration, oldest first (a deadline started later is due later), with one
 * timer for the oldest. Node's own timers are built the same way, with an object per timer; this
 * keeps the links on the node, so a try's deadline costs no allocation (two Node timers per
 * request were 5 % of the gateway's instructions).
 */
export class DeadlineList {
  private head: DeadlineNode | undefined;
  private tail: DeadlineNode | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires, if it is armed. */
  private timerAt = Infinity;

  constructor(
    private readonly durationMs: number,
    private readonly expire: (node: DeadlineNode) => void,
    /** Told when the list has run empty and its timer has stopped: a list per duration must not pile up. */
    private readonly emptied: (list: DeadlineList) => void,
  ) {}

  get duration(): number {
    return this.durationMs;
  }

  add(node: DeadlineNode, now: number): void {
    node.dueAt = now + this.durationMs;
    node.deadlineList = this;
    node.previousDue = this.tail;
    node.nextDue = undefined;
    if (this.tail) this.tail.nextDue = node;
    else this.head = node;
    this.tail = node;
    if (this.timerAt === Infinity) this.arm(node.dueAt, now);
  }

  remove(node: DeadlineNode): void {
    if (node.deadlineList !== this) return;
    if (node.previousDue) node.previousDue.nextDue = node.nextDue;
    else this.head = node.nextDue;
    if (node.nextDue) node.nextDue.previousDue = node.previousDue;
    else this.tail = node.previousDue;
    node.deadlineList = node.previousDue = node.nextDue = undefined;
    // The timer is left alone: when it fires it finds the new oldest, or nothing.
  }

  /** Stops the timer: the gateway is closing. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    while (this.head && this.head.dueAt <= now) {
      const due = this.head;
      this.remove(due);
      this.expire(due);
    }
    if (this.head) this.arm(this.head.dueAt, now);
    else this.emptied(this);
  };

  private arm(dueAt: number, now: number): void {
    this.timerAt = dueAt;
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(dueAt - now)));
    // A deadline never keeps the process alive: what it guards does, if anything.
    this.timer.unref();
  }
}

/** A DeadlineList per duration (the try timeout, --write-timeout, and what is left of it on retries). */
export class Deadlines {
  private readonly lists = new Map<number, DeadlineList>();

  constructor(private readonly expire: (node: DeadlineNode) => void) {}

  /** Starts (or restarts) `node`'s deadline, `durationMs` from now. */
  start(node: DeadlineNode, durationMs: number, now = performance.now()): void {
    node.deadlineList?.remove(node);
    let list = this.lists.get(durationMs);
    if (!list) {
      list = new DeadlineList(durationMs, this.expire, this.forget);
      this.lists.set(durationMs, list);
    }
    list.add(node, now);
  }

  stop(node: DeadlineNode): void {
    node.deadlineList?.remove(node);
  }

  close(): void {
    for (const list of this.lists.values()) list.close();
    this.lists.clear();
  }

  private readonly forget = (list: DeadlineList): void => {
    if (this.lists.get(list.duration) === list) this.lists.delete(list.duration);
  };
}
