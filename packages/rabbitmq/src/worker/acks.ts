import type { Channel, Message } from 'amqplib';
import type { Logger } from 'pino';

/**
 * Settled tags above the lowest unsettled one a channel remembers before it stops batching (a
 * delivery left unacknowledged on purpose on a channel that stays open would otherwise make the
 * set grow with every later ack).
 */
const settledAboveMax = 4_096;

/**
 * The acknowledgements of one consuming channel, sent once per event-loop turn (at its end, a
 * `process.nextTick` after the turn's promise callbacks, so they still leave in the socket write
 * amqplib's multiplexer makes at the next immediate, with the turn's other frames): the acks of a
 * turn that, with everything already settled, form an unbroken run from the channel's lowest
 * unsettled delivery tag go as one `basic.ack` with `multiple` (one frame for the broker and for
 * amqplib instead of one per command); the others go one by one, in the same turn. An ack is
 * never held longer than the turn it was asked for in, so a slow command does not keep its
 * neighbours' messages unacknowledged.
 *
 * A `multiple` ack covers every unacknowledged delivery up to its tag, so it is sent only when
 * each of them is known to be settled: acknowledged here, or nacked (`settled`). A delivery left
 * unacknowledged on purpose (not started after a hand-over or a reconnection, an unexpected error,
 * a fatal store error, a reply still waiting for replication) is neither, so no `multiple` ack
 * ever covers it: acks above it go one by one until it is settled. Delivery tags of a channel
 * start at 1 and grow by one per delivery; a tag this never saw just stops the batching, never
 * gets covered.
 *
 * Callers must `flush()` before closing the channel (a hand-over, a stop), so nothing asked for
 * is dropped with it.
 */
export class ChannelAcks {
  /** Every tag below is settled. */
  private low = 1;
  /** Settled tags at or above `low`. */
  private readonly settledAbove = new Set<number>();
  /** Tags to acknowledge at the end of this turn. */
  private ready: number[] = [];
  private scheduled = false;
  /** False once `settledAboveMax` was reached: every ack goes alone from then on. */
  private batching = true;
  /** Counts of frames sent, for tests and measurements. */
  readonly sent = { multiple: 0, single: 0, covered: 0 };

  constructor(
    private readonly channel: Channel,
    private readonly log: Logger,
  ) {}

  /** Acknowledges `tag` at the end of this event-loop turn (or at the next `flush`). */
  ack(tag: number): void {
    this.ready.push(tag);
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(() => this.flush());
  }

  /** `tag` was settled another way (nacked): a later `multiple` ack may cover it. */
  settled(tag: number): void {
    if (!this.batching) return;
    if (tag === this.low) {
      this.low++;
      while (this.settledAbove.delete(this.low)) this.low++;
    } else if (tag > this.low) {
      this.remember(tag);
    }
  }

  /** Sends the acks asked for so far. */
  flush(): void {
    this.scheduled = false;
    if (this.ready.length === 0) return;
    const ready = this.ready;
    this.ready = [];
    try {
      if (!this.batching) {
        for (const tag of ready) this.send(tag, false);
        return;
      }
      let top = 0;
      let covered = 0;
      if (ready.length > 1) ready.sort((a, b) => a - b);
      let i = 0;
      // The unbroken run from `low`: tags asked for now, or settled before.
      for (;;) {
        if (i < ready.length && ready[i] === this.low) {
          top = this.low++;
          covered++;
          i++;
        } else if (this.settledAbove.delete(this.low)) {
          this.low++;
        } else {
          break;
        }
      }
      if (covered > 0) this.send(top, covered > 1);
      if (covered > 1) this.sent.covered += covered;
      for (; i < ready.length; i++) {
        const tag = ready[i]!;
        this.send(tag, false);
        if (this.batching && tag > this.low) this.remember(tag);
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'could not acknowledge (channel closed); the broker will redeliver and the duplicate lookup answers it');
    }
  }

  private send(tag: number, multiple: boolean): void {
    this.channel.ack({ fields: { deliveryTag: tag } } as Message, multiple);
    if (multiple) this.sent.multiple++;
    else this.sent.single++;
  }

  private remember(tag: number): void {
    this.settledAbove.add(tag);
    if (this.settledAbove.size > settledAboveMax) {
      this.batching = false;
      this.settledAbove.clear();
    }
  }
}
