// Reading a daemon's `--trace-gc` log: the live JS heap after each full collection, and whether it trends
// upwards. RSS of a busy Node process is a saw-tooth of garbage awaiting collection; what a full
// (Mark-Compact) collection leaves is what the process keeps, so that is the figure a leak moves.

export interface FullGc {
  /** Milliseconds since the daemon's V8 isolate started (the trace's own clock). */
  atMs: number;
  /** Heap objects' size after the collection, MB. */
  liveMb: number;
}

/** "[pid:0x…]   16442 ms: Mark-Compact (reduce) 24.6 (36.2) -> 18.9 (22.0) MB, …": one per full collection. */
export function parseFullGcs(log: string): FullGc[] {
  const gcs: FullGc[] = [];
  for (const match of log.matchAll(/^\[\d+:0x[0-9a-f]+\]\s+([\d.]+) ms: Mark-Compact[^>\n]*-> ([\d.]+) \(/gm)) {
    gcs.push({ atMs: Number(match[1]), liveMb: Number(match[2]) });
  }
  return gcs;
}

/** Least squares over (x, y): the slope. */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface Trend {
  /** Slope of the least-squares line, MB per minute. */
  slopeMbPerMin: number;
  meanMb: number;
  /** What the fitted line grows by over the window it was fitted on, MB. */
  fittedGrowthMb: number;
  points: number;
}

/** The fitted line through [seconds, MB] points. */
export function trend(points: Array<[number, number]>): Trend {
  const perSecond = slope(points);
  const window = points.length > 1 ? points.at(-1)![0] - points[0]![0] : 0;
  return {
    slopeMbPerMin: perSecond * 60,
    meanMb: points.reduce((s, [, y]) => s + y, 0) / Math.max(1, points.length),
    fittedGrowthMb: perSecond * window,
    points: points.length,
  };
}

/** Full collections needed after the warm-up before the live heap's line says anything. */
export const MIN_FULL_GCS = 4;

/**
 * Whether the live heap after full collections grows: the line fitted through them after the
 * warm-up climbs by more than max(3 MB, 15 % of their mean). Why these figures: with no leak, the
 * live heap after a full collection still moves by ±0.5 MB with what is in flight at that moment
 * (replies half-streamed, subscribers' queued frames, the link's outbox during a cut), and V8's
 * compiled code keeps growing under load as it optimizes more functions (it had not levelled off at 15 minutes):
 * heap snapshots of a soak's hub 2.5 minutes apart showed ~0.2 MB/min of new code and its
 * metadata, and no JS objects kept beyond the live clients' (performance.md, "The soak"). That is
 * ~2 MB over a ten-minute run's fitted window, so the threshold sits above it. What it catches: the
 * soak swaps ~1,100 clients and completes ~900 replies in ten minutes; keeping a closed client's
 * connection (its socket, parser and subscription: 3–5 KB) or a finished turn's state (its parts and
 * text: ~5 KB) grows the live heap by 4–5 MB. Fewer than MIN_FULL_GCS collections say nothing.
 */
export function liveHeapGrows(t: Trend): boolean {
  return t.points >= MIN_FULL_GCS && t.fittedGrowthMb > Math.max(3, 0.15 * t.meanMb);
}
