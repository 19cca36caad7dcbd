import type { Channel, ChannelModel } from 'amqplib';
import { fnv1a32 } from '@troupe/runtime/store';

/**
 * Which worker should hold a shard: rendezvous hashing over the live workers, so every worker
 * computes the same owner from the same member list, and a worker joining or leaving moves only
 * about 1/n of the shards.
 */
export function ownerOf(shard: number, members: readonly string[]): string | undefined {
  // FNV-1a alone mixes its last bytes poorly: the same member would win every shard. The
  // murmur3 finalizer spreads them (tested).
  let best: string | undefined;
  let bestScore = -1;
  for (const member of members) {
    const score = mix32(fnv1a32(`${member}|${shard}`));
    if (score > bestScore || (score === bestScore && best !== undefined && member < best)) {
      best = member;
      bestScore = score;
    }
  }
  return best;
}

/** murmur3's fmix32: every input bit affects every output bit. */
function mix32(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Heartbeat {
  readonly id: string;
  readonly leaving?: boolean;
}

/**
 * Who else is consuming: every worker publishes a heartbeat to a fanout exchange every
 * `intervalMs` and listens on its own exclusive queue. A worker not heard from for three
 * intervals is gone; a stopping worker says so at once. `onChange` gets the sorted member list.
 */
export class Membership {
  private readonly lastSeen = new Map<string, number>();
  private channel: Channel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: string[] = [];

  constructor(
    readonly selfId: string,
    private readonly exchange: string,
    private readonly intervalMs: number,
    private readonly onChange: (members: readonly string[]) => void,
  ) {
    this.current = [selfId];
  }

  get members(): readonly string[] {
    return this.current;
  }

  async attach(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    await channel.assertExchange(this.exchange, 'fanout', { durable: false, autoDelete: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, this.exchange, '');
    await channel.consume(queue, (message) => message && this.heard(message.content), { noAck: true });
    this.channel = channel;
    this.beat();
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      this.beat();
      // After the poll phase: heartbeats that arrived while the event loop was stalled are read
      // first, so a stall does not make every other worker look gone (and shards flap).
      setImmediate(() => this.expire());
    }, this.intervalMs);
    this.timer.unref();
  }

  /** The connection is gone: stop beating until `attach` again. */
  detach(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.channel = undefined;
  }

  /** Tells the others this worker is leaving, so they take its shards without waiting. */
  leave(): void {
    this.publish({ id: this.selfId, leaving: true });
    this.detach();
  }

  private beat(): void {
    this.publish({ id: this.selfId });
  }

  private publish(heartbeat: Heartbeat): void {
    try {
      this.channel?.publish(this.exchange, '', Buffer.from(JSON.stringify(heartbeat)));
    } catch {
      // channel closing: the next attach beats again
    }
  }

  private heard(content: Buffer): void {
    let heartbeat: Heartbeat;
    try {
      heartbeat = JSON.parse(content.toString()) as Heartbeat;
    } catch {
      return;
    }
    if (typeof heartbeat.id !== 'string' || heartbeat.id === this.selfId) return;
    if (heartbeat.leaving) {
      this.lastSeen.delete(heartbeat.id);
    } else {
      const isNew = !this.lastSeen.has(heartbeat.id);
      this.lastSeen.set(heartbeat.id, Date.now());
      if (isNew) this.beat(); // let a newcomer learn about this worker now, not an interval later
    }
    this.update();
  }

  private expire(): void {
    const cutoff = Date.now() - 3 * this.intervalMs;
    for (const [id, seen] of this.lastSeen) if (seen < cutoff) this.lastSeen.delete(id);
    this.update();
  }

  private update(): void {
    const next = [this.selfId, ...this.lastSeen.keys()].sort();
    if (next.length === this.current.length && next.every((id, i) => id === this.current[i])) return;
    this.current = next;
    this.onChange(next);
  }
}
