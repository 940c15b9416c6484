// Following a presentation: views are shown in version order only. The daemon raises a
// presentation's version with every change it applies, so a frame that arrives late (over a
// reconnect, or from a second connection) can never move a follower back to an older slide.
import type { PresentationView } from "../protocol/api/presentations.js";

export class SlideFollower {
  private shown: PresentationView | null = null;

  /** The view on screen now. */
  get current(): PresentationView | null {
    return this.shown;
  }

  /** Whether to show `view`: only if it is newer than what is on screen. */
  accept(view: PresentationView | null): boolean {
    if (view === null) return this.shown === null;
    if (this.shown !== null && this.shown.id === view.id && view.version <= this.shown.version) return false;
    this.shown = view;
    return true;
  }
}
