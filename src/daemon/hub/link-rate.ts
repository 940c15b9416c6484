// How fast one machine's link may send: a token bucket of frames and one of bytes. The hub closes
// a link that goes past its limit (LINK_RATE.hub); the agent paces its outbox below it
// (LINK_RATE.agent), so a backlog sent after a reconnect arrives at full speed but never trips it.
import type { LinkRate } from "../../protocol/link.js";

export class LinkRateLimit {
  private frames: number;
  private bytes: number;
  private at: number;

  constructor(
    readonly rate: LinkRate,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.frames = rate.framesBurst;
    this.bytes = rate.bytesBurst;
    this.at = now();
  }

  private refill(): void {
    const now = this.now();
    const seconds = Math.max(0, now - this.at) / 1000;
    this.at = now;
    this.frames = Math.min(this.rate.framesBurst, this.frames + seconds * this.rate.framesPerSecond);
    this.bytes = Math.min(this.rate.bytesBurst, this.bytes + seconds * this.rate.bytesPerSecond);
  }

  /** What arrived on this link: totals, and the most in any one second (for `hub status`). */
  readonly seen = { frames: 0, bytes: 0, peakFramesPerSecond: 0, peakBytesPerSecond: 0 };
  private second = { at: -1, frames: 0, bytes: 0 };

  /** Counts a frame that arrived; false once the link is past its limit. */
  take(size: number): boolean {
    this.refill();
    this.count(size);
    this.frames -= 1;
    this.bytes -= size;
    return this.frames >= 0 && this.bytes >= 0;
  }

  private count(size: number): void {
    const second = Math.floor(this.at / 1000);
    if (second !== this.second.at) this.second = { at: second, frames: 0, bytes: 0 };
    this.second.frames += 1;
    this.second.bytes += size;
    this.seen.frames += 1;
    this.seen.bytes += size;
    this.seen.peakFramesPerSecond = Math.max(this.seen.peakFramesPerSecond, this.second.frames);
    this.seen.peakBytesPerSecond = Math.max(this.seen.peakBytesPerSecond, this.second.bytes);
  }

  /** For a sender: 0 (and the frame is counted) if it may go now, else how many ms until it may. */
  delayFor(size: number): number {
    this.refill();
    if (this.frames >= 1 && this.bytes >= size) {
      this.frames -= 1;
      this.bytes -= size;
      return 0;
    }
    const framesWait = this.frames >= 1 ? 0 : ((1 - this.frames) / this.rate.framesPerSecond) * 1000;
    const bytesWait = this.bytes >= size ? 0 : ((size - this.bytes) / this.rate.bytesPerSecond) * 1000;
    return Math.max(1, Math.ceil(Math.max(framesWait, bytesWait)));
  }
}
