/**
 * Registers (protocol.md, "Registers"): small versioned values (at most 64 KiB) written with
 * compare-and-set, optionally fenced by a lease so that a write from a holder that lost its lock
 * is refused.
 */
import { NotFoundError } from "./errors";
import type { Lease } from "./lease";
import type { Sessions } from "./renew";
import { checkName, checkNonNegative, toBytes } from "./validate";

/** A register's value at a version. Version 0 means absent (never written): `value` is null. */
export interface RegisterValue {
  version: number;
  value: Uint8Array | null;
  /** The value decoded as UTF-8, or null when absent. */
  text: string | null;
}

export interface CompareAndSetOptions {
  /** Write only while this lease's grant is current and held by this session (checked in the same step). */
  fence?: Lease;
  signal?: AbortSignal;
}

export class Register {
  /** @internal Made by {@link Client.register}. */
  constructor(
    private readonly session: Sessions,
    readonly key: string,
  ) {
    checkName(key, "register key");
  }

  /** The current version and value (linearizable: read at the leader); version 0 when absent. */
  async get(options: { signal?: AbortSignal } = {}): Promise<RegisterValue> {
    try {
      const answer = await this.session.read(`/api/v1/registers/${encodePath(this.key)}`, options.signal);
      const version = Number(answer.body?.version ?? 0);
      if (version === 0 || answer.body?.value === undefined || answer.body?.value === null) {
        return { version, value: version === 0 ? null : new Uint8Array(0), text: version === 0 ? null : "" };
      }
      const value = fromBase64(String(answer.body.value));
      return { version, value, text: new TextDecoder().decode(value) };
    } catch (e) {
      if (e instanceof NotFoundError) return { version: 0, value: null, text: null };
      throw e;
    }
  }

  /**
   * Writes `value` if the register is at `expectedVersion` (0: absent); resolves with the new
   * version. Rejects with {@link ConflictError} (its `currentVersion` says the version found) when
   * it is not, and with {@link LockLostError}/{@link NotOwnerError} as the server answers when the
   * fence's grant is no longer current.
   */
  async compareAndSet(expectedVersion: number, value: Uint8Array | string, options: CompareAndSetOptions = {}): Promise<number> {
    checkNonNegative(expectedVersion, "expectedVersion");
    const bytes = toBytes(value);
    const fields: Record<string, unknown> = { key: this.key, expectedVersion, value: toBase64(bytes) };
    if (options.fence) {
      fields.fenceName = options.fence.name;
      fields.fenceToken = options.fence.fencingToken;
    }
    const answer = await this.session.write("/api/v1/registers/set", fields, this.session.defaultTiming(options.signal));
    return Number(answer.body?.version);
  }
}

/** Encodes each `/`-separated segment of a key for a URL path. */
export function encodePath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
