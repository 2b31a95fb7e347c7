/**
 * Durations as people write them, as every Holdfast client and the server print them: `500ms`,
 * `10s`, `1m30s`, `24h`; never `10000 ms` (docs/protocol.md, the Java client's DurationText).
 */
const UNITS: ReadonlyArray<readonly [string, number]> = [
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
  ["ms", 1],
];

/**
 * Whole terms from hours down to milliseconds, each at most once, in the fewest terms (90,000 ms is
 * `1m30s`); zero is `0s`; a rest under a millisecond is dropped, and a positive duration under one
 * is `<1ms`.
 */
export function formatDuration(ms: number): string {
  let rest = Math.floor(ms);
  if (rest <= 0) return ms > 0 ? "<1ms" : "0s";
  let text = "";
  for (const [symbol, length] of UNITS) {
    if (rest >= length) {
      text += `${Math.floor(rest / length)}${symbol}`;
      rest %= length;
    }
  }
  return text;
}
