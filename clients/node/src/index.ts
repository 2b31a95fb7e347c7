/**
 * Holdfast client for Node.js: distributed locks, read-write locks, semaphores, fenced
 * registers, keys and transactions, watches and leader elections over the members' HTTP JSON protocol
 * (docs/protocol.md). No runtime dependencies.
 *
 * Start with {@link Client.connect}.
 */
export { Client } from "./client";
export type { ClientOptions, AcquireOptions, AcquireAllOptions } from "./client";
export { Lease, LeaseSet } from "./lease";
export type { LossCallback } from "./lease";
export type { LossReason } from "./events";
export type { SessionListener } from "./renew";
export { Register } from "./register";
export { Keys, Group, ANY_VERSION, counterOf } from "./keys";
export type { KeyEntry, KeyListing, PutOptions, Compare, Op, Txn, TxnResult, OpResult } from "./keys";
export { Watch } from "./watch";
export type { WatchTarget, WatchKind, WatchOptions, WatchEvent, WatchEventType, LockInfo, LockHolder, LockWaiter } from "./watch";
export { Election, Leadership, Observation } from "./election";
export type { Leader, CampaignOptions } from "./election";
export type { RegisterValue, CompareAndSetOptions } from "./register";
export type { LockMode } from "./validate";
export type { Clock } from "./clock";
export type { Calls } from "./transport";
export {
  HoldfastError,
  LockTimeoutError,
  InvalidArgumentError,
  LockLostError,
  NotOwnerError,
  ConflictError,
  DeadlockError,
  SessionExpiredError,
  UnavailableError,
  PermissionDeniedError,
  QuotaExceededError,
  NotFoundError,
} from "./errors";
export type { ErrorCode } from "./errors";
