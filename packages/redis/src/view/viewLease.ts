/**
 * The lease one runner holds while it writes a view's key set (live, or a rebuild's shadow): one
 * runner per view per region. Taken with SET PX when nobody holds it, with a token from a
 * counter that only grows (INCR), renewed every `renewEveryMs`; every write script compares the
 * lease key with the value this runner holds, so a runner that lost it (paused past the TTL, then
 * resumed) writes nothing, whatever it still believes.
 */
import type { ViewLeaseKeys } from './viewKeys.js';
import type { ViewReply, ViewScripts } from './viewScripts.js';
import { CorruptDataError } from '@troupe/runtime/store';

export type AcquireResult = { readonly acquired: true; readonly lease: string } | { readonly acquired: false; readonly heldBy: string; readonly expiresInMs: number };

export interface ViewLeaseOptions {
  readonly holder: string;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  /** Called once when a renewal finds the lease gone or taken (or could not reach Redis for a whole TTL). */
  readonly onLost?: (lease: string, current: string) => void;
}

export class ViewLease {
  private value: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private confirmedAt = 0;

  constructor(
    private readonly scripts: ViewScripts,
    private readonly keys: ViewLeaseKeys,
    private readonly options: ViewLeaseOptions,
  ) {}

  /** The lease held (`<token> <holder>`), or undefined. */
  get held(): string | undefined {
    return this.value;
  }

  /** The token of the lease held. */
  get token(): number | undefined {
    return this.value === undefined ? undefined : Number(this.value.slice(0, this.value.indexOf(' ')));
  }

  /** Takes the lease if nobody holds it (keeps it if this runner does), then renews it until `release` or loss. */
  async acquire(): Promise<AcquireResult> {
    if (this.value !== undefined) return { acquired: true, lease: this.value };
    const reply = (await this.scripts.call('troupeViewAcquire', [this.keys.lease, this.keys.fence], [this.options.holder, this.options.ttlMs])) as ViewReply[];
    if (reply[0] === 'type') throw new CorruptDataError(String(reply[1]), `holds a ${String(reply[2])} where troupe keeps a ${String(reply[3])}`);
    if (reply[0] !== 1) return { acquired: false, heldBy: String(reply[1]), expiresInMs: Number(reply[2]) };
    this.value = String(reply[1]);
    this.confirmedAt = Date.now();
    this.timer = setInterval(() => void this.renew(), this.options.renewEveryMs);
    this.timer.unref?.();
    return { acquired: true, lease: this.value };
  }

  /** Forgets the lease after a write was refused (the scripts found another value): stops renewing it. */
  lost(current: string): void {
    const held = this.value;
    if (held === undefined) return;
    this.forget();
    this.options.onLost?.(held, current);
  }

  /** Gives the lease up (if still held), so another runner takes over without waiting for the TTL. */
  async release(): Promise<void> {
    const held = this.value;
    if (held === undefined) return;
    this.forget();
    await this.scripts.call('troupeViewRelease', [this.keys.lease], [held]).catch(() => undefined);
  }

  private forget(): void {
    this.value = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async renew(): Promise<void> {
    const held = this.value;
    if (held === undefined) return;
    try {
      const renewed = await this.scripts.call('troupeViewRenew', [this.keys.lease], [held, this.options.ttlMs]);
      if (this.value !== held) return;
      if (renewed === 1) this.confirmedAt = Date.now();
      else this.lost('');
    } catch {
      // Redis unreachable: the lease may expire meanwhile. Past a whole TTL without a renewal,
      // another runner may hold it: stop believing this one does (the scripts would refuse anyway).
      if (this.value === held && Date.now() - this.confirmedAt >= this.options.ttlMs) this.lost('');
    }
  }
}
