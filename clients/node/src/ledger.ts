/**
 * The per-session ledger of request ids (protocol.md, "Request ids").
 *
 * Numbers are handed out 1, 2, 3, … A number is *outstanding* from {@link RequestLedger.begin}
 * (before the request is first sent) until {@link RequestLedger.settle} (its final answer is known:
 * anything but a broken connection, a timeout, `503` or `504`). `ackedBelow` is the lowest
 * outstanding number, so every number below it has its answer and the cluster may forget it.
 *
 * Guaranteed: `ackedBelow` never exceeds an outstanding number, and never decreases.
 */
export class RequestLedger {
  private nextId = 1;
  private readonly outstanding = new Set<number>();
  private low = 1;

  /** Takes the next number and marks it outstanding. */
  begin(): number {
    const id = this.nextId++;
    this.outstanding.add(id);
    return id;
  }

  /** Marks a number answered for good. Settling twice, or a number never begun, is harmless. */
  settle(id: number): void {
    this.outstanding.delete(id);
    if (id === this.low) this.advance();
  }

  /** Whether the number is still waiting for its final answer. */
  isOutstanding(id: number): boolean {
    return this.outstanding.has(id);
  }

  /**
   * The lowest outstanding number, or the next number to be handed out when none is outstanding.
   * Call it right before each send: it includes the request being sent, which is outstanding.
   */
  ackedBelow(): number {
    return this.low;
  }

  /** How many numbers are outstanding. */
  get size(): number {
    return this.outstanding.size;
  }

  private advance(): void {
    while (this.low < this.nextId && !this.outstanding.has(this.low)) this.low++;
  }
}
