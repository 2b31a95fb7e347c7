/**
 * The session's event stream (protocol.md, "The event stream"): a long poll of
 * `GET /api/v1/sessions/{id}/events?after=POS&waitMillis=20000`, resumed from each answer's `next`,
 * at the client's home member and at the next member after an error (with backoff).
 *
 * - `lost` marks the matching grant (same name and token) lost, with the event's reason;
 * - `sessionExpired` (and a `gap` whose `state.exists` is false) expires the session locally;
 * - a `gap` answer: every grant held that `state.holds` does not list is lost, reason `unknown`.
 *
 * {@link interpretEvents} is the pure part (canned JSON in, decisions out); {@link EventStream}
 * is the loop, a {@link longPoll} like watches.
 */
import { longPoll } from "./longpoll";
import type { Transport } from "./transport";

/** Why a grant was lost. `unknown`: found missing after a gap, or a renew answered NOT_OWNER. */
export type LossReason = "revoked" | "leaseTimeout" | "sessionExpired" | "unknown";

const REASONS: readonly string[] = ["revoked", "leaseTimeout", "sessionExpired"];

/** A grant the client holds, as the stream matches it. */
export interface HeldGrant {
  name: string;
  token: number;
}

export interface Loss extends HeldGrant {
  reason: LossReason;
}

/** What one answer of the stream means for the client. */
export interface EventsOutcome {
  /** Where to resume (`after` of the next poll); undefined if the answer had none. */
  next: string | undefined;
  /** Grants lost, in the order reported. */
  losses: Loss[];
  /** The session ended: expire it locally. */
  expired: boolean;
  /** The session was closed by its client (`sessionClosed`). */
  closed: boolean;
  /** Whether the answer was a gap (state instead of events). */
  gap: boolean;
}

/**
 * Decides what an answer of the stream means. `held` is what the client holds and that the answer
 * can speak for (for a gap: the grants known before the poll was sent; a grant answered later may
 * postdate the state).
 */
export function interpretEvents(answer: any, held: readonly HeldGrant[]): EventsOutcome {
  const next = answer?.next === undefined || answer?.next === null ? undefined : String(answer.next);
  const outcome: EventsOutcome = { next, losses: [], expired: false, closed: false, gap: answer?.gap === true };
  if (outcome.gap) {
    const state = answer?.state ?? {};
    if (state.exists === false) {
      outcome.expired = true;
      for (const h of held) outcome.losses.push({ name: h.name, token: h.token, reason: "sessionExpired" });
      return outcome;
    }
    const holds: any[] = Array.isArray(state.holds) ? state.holds : [];
    const listed = new Set(holds.map((h) => key(String(h?.name), Number(h?.token))));
    for (const h of held) {
      if (!listed.has(key(h.name, h.token))) outcome.losses.push({ name: h.name, token: h.token, reason: "unknown" });
    }
    return outcome;
  }
  const events: any[] = Array.isArray(answer?.events) ? answer.events : [];
  for (const e of events) {
    switch (e?.type) {
      case "lost": {
        const reason = REASONS.includes(e.reason) ? (e.reason as LossReason) : "unknown";
        outcome.losses.push({ name: String(e.name), token: Number(e.token), reason });
        break;
      }
      case "sessionExpired":
        outcome.expired = true;
        break;
      case "sessionClosed":
        outcome.closed = true;
        break;
      default:
        // granted, waitTimedOut: the acquire's own answer says so too.
        break;
    }
  }
  return outcome;
}

function key(name: string, token: number): string {
  return `${token}\u0000${name}`;
}

/** What the stream needs from the session. */
export interface EventSink {
  /** Grants whose grant answer arrived before `time` (the client's clock). */
  heldBefore(time: number): HeldGrant[];
  lost(loss: Loss): void;
  expired(message: string): void;
  log(message: string): void;
}

/** The long poll of one session's events ({@link longPoll}). Stops when `signal` aborts. */
export class EventStream {
  constructor(
    private readonly transport: Transport,
    private readonly sessionId: string,
    private readonly sink: EventSink,
    private readonly signal: AbortSignal,
    private readonly requestTimeoutMs: number,
    private readonly waitMillis = 20000,
  ) {}

  /** Runs until the signal aborts or the session ends; never rejects. */
  async run(): Promise<void> {
    const base = `/api/v1/sessions/${encodeURIComponent(this.sessionId)}/events?waitMillis=${this.waitMillis}`;
    let ended = false;
    await longPoll({
      transport: this.transport,
      what: "events",
      path: (after) => base + (after !== undefined ? `&after=${encodeURIComponent(after)}` : ""),
      waitMillis: this.waitMillis,
      requestTimeoutMs: this.requestTimeoutMs,
      signal: this.signal,
      log: (message) => this.sink.log(message),
      stopped: () => ended || this.transport.closed,
      parse: (body) => ({ body, next: body?.next === undefined || body?.next === null ? undefined : String(body.next) }),
      take: (page, sentAt) => {
        const held = this.sink.heldBefore(sentAt);
        const outcome = interpretEvents(page.body, held);
        if (outcome.gap) this.sink.log(`events: a gap at ${outcome.next}; ${outcome.losses.length} of ${held.length} grants not listed`);
        for (const loss of outcome.losses) this.sink.lost(loss);
        if (outcome.expired) this.sink.expired("holdfast: the session expired (reported by the event stream)");
        ended = outcome.expired || outcome.closed;
        return !ended;
      },
      final: (status, error) => {
        if (status !== 410 && error.code !== "SESSION_EXPIRED") return false;
        this.sink.expired(error.message ? String(error.message) : "holdfast: the session expired");
        return true;
      },
    }).catch(() => undefined); // aborted or closed
  }
}
