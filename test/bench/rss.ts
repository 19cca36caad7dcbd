/**
 * Memory of the embedded runtime after N distinct actors, one command each, with the runtime's
 * default passivation (`runtimeDefaults`: at most `liveActorsMax` live actors, least recently used
 * passivated first; idle ones after `idleTimeoutMs`).
 *
 * Each point runs in a fresh child process (`node --expose-gc`, this file as its entry), so points
 * do not inherit each other's heap. A MemoryStore necessarily grows with the data (every actor's
 * pack stays in this process: ~1.7 GiB of heap at 1M actors, and a 1M run takes minutes), so every
 * point runs on a DiscardStore (keeps nothing; each actor gets one command, so nothing is ever read
 * back) to show what the runtime alone holds, and the points in `memoryStoreAt` also on a
 * MemoryStore to show the store's share beside it. The child separates the two by dropping them
 * one after the other:
 *
 *   after the run, full GC:            RSS, heap + external        (runtime + store + floor)
 *   runtime stopped and dropped, GC:   heap + external             (store + floor)
 *   store dropped, GC:                 heap + external             (floor)
 *
 * runtimeBytes = first - second, storeBytes = second - third. RSS is read only after the run (V8
 * does not give pages back to the OS promptly, so RSS after dropping means little).
 *
 * Baseline, in the same kind of child process: the raw fold (counter.ts) keeping N states in a Map
 * by actor key; mapBytes = (heap + external with the Map) - (after dropping it).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ActorRef, createRuntime, type EventStore, MemoryStore, type Pack, runtimeDefaults, type Runtime } from '@troupe/runtime';
import { type Chain, type Changes, type MergeReport } from '@troupe/runtime/store';
import { runJsonChild } from './child.js';
import { Counter, type CounterState, rawFoldOne } from './counter.js';

export interface RssOptions {
  /** Distinct actors per point (one child process per point and side). */
  readonly actors: readonly number[];
  /** Commands in flight at once in the runtime child. */
  readonly window: number;
  /** Points also run on a MemoryStore (it keeps every actor's pack in the process: slow and big at 1M). */
  readonly memoryStoreAt: readonly number[];
}

/** `memory`: a MemoryStore (keeps every pack in the process); `discard`: DiscardStore (keeps nothing). */
export type StoreKind = 'memory' | 'discard';

export interface RuntimeChild {
  readonly actors: number;
  readonly store: StoreKind;
  readonly seconds: number;
  readonly commandsPerSecond: number;
  readonly liveActors: number;
  /** Bytes after the run and a full GC. */
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  /** Peak RSS of the child (getrusage maxRSS), bytes. */
  readonly maxRss: number;
  /** heap + external held by the runtime (live actors, mailboxes, nact), by the store, and the process floor. */
  readonly runtimeBytes: number;
  readonly storeBytes: number;
  readonly floorBytes: number;
}

export interface RawChild {
  readonly actors: number;
  readonly seconds: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly maxRss: number;
  readonly mapBytes: number;
  readonly floorBytes: number;
}

export interface RssPoint {
  readonly actors: number;
  /** The runtime on a DiscardStore: what the runtime alone holds. */
  readonly runtime: RuntimeChild;
  /** The runtime on a MemoryStore (only at the points in `memoryStoreAt`): the store's share beside it. */
  readonly memory?: RuntimeChild;
  readonly raw: RawChild;
}

export interface RssResults {
  readonly liveActorsMax: number;
  readonly idleTimeoutMs: number;
  readonly window: number;
  readonly points: readonly RssPoint[];
}

/**
 * A store that keeps nothing: appends are counted and dropped, every actor reads as empty. Enough
 * here, since each actor receives exactly one command (its load finds no history either way), and
 * it leaves in the process only what the runtime itself holds: the question of this curve.
 */
class DiscardStore implements EventStore {
  packCount = 0;
  async append(): Promise<void> {
    this.packCount++;
  }
  async heads(): Promise<Pack[]> {
    return [];
  }
  async getPacks(_actor: ActorRef, keys: readonly string[]): Promise<(Pack | undefined)[]> {
    return keys.map(() => undefined);
  }
  async loadChain(): Promise<Chain> {
    return { packs: [] };
  }
  async saveSnapshot(): Promise<void> {}
  async commandVersions(): Promise<never[]> {
    return [];
  }
  async changesSince(cursor: string | undefined): Promise<Changes> {
    return { packs: [], snapshots: [], cursor: cursor ?? '0' };
  }
  async merge(packs: readonly Pack[]): Promise<MergeReport> {
    return { added: 0, skipped: packs.length };
  }
  async history(): Promise<Pack[]> {
    return [];
  }
  async close(): Promise<void> {}
}

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('rss child: run with --expose-gc');
  g();
  g();
};
const js = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

/** One command to each of `actors` actors, `window` in flight; seconds. (Its own function: no closure outlives it.) */
async function drive(runtime: Runtime, actors: number, window: number): Promise<number> {
  const start = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < actors) {
      const reply = await runtime.send(Counter.ref(`a${next++}`), { type: 'add', payload: { by: 1 } });
      if (reply.status !== 'accepted') throw new Error(`rss child: command was ${reply.status}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, actors) }, lane));
  return (performance.now() - start) / 1000;
}

async function runtimeChild(actors: number, window: number, storeKind: StoreKind): Promise<RuntimeChild> {
  let store: MemoryStore | DiscardStore | undefined = storeKind === 'memory' ? new MemoryStore() : new DiscardStore();
  let runtime: Runtime | undefined = createRuntime({ actors: [Counter], store });
  const seconds = await drive(runtime, actors, window);
  const liveActors = runtime.liveActors;
  if (store.packCount !== actors) throw new Error(`rss child: ${store.packCount} packs for ${actors} actors`);
  gc();
  const after = process.memoryUsage();
  const all = after.heapUsed + after.external;
  await runtime.stop();
  runtime = undefined;
  await new Promise((resolve) => setTimeout(resolve, 10));
  gc();
  const storeAndFloor = js();
  store = undefined;
  gc();
  const floor = js();
  return {
    actors,
    store: storeKind,
    seconds,
    commandsPerSecond: actors / seconds,
    liveActors,
    rss: after.rss,
    heapUsed: after.heapUsed,
    external: after.external,
    maxRss: maxRss(),
    runtimeBytes: all - storeAndFloor,
    storeBytes: storeAndFloor - floor,
    floorBytes: floor,
  };
}

function rawChild(actors: number): RawChild {
  let states: Map<string, CounterState> | undefined = new Map();
  const start = performance.now();
  for (let i = 0; i < actors; i++) {
    const key = `counter:a${i}`;
    states.set(key, rawFoldOne(states.get(key) ?? Counter.initial(), 1));
  }
  const seconds = (performance.now() - start) / 1000;
  if (states.size !== actors) throw new Error('rss child: raw map size');
  gc();
  const after = process.memoryUsage();
  const all = after.heapUsed + after.external;
  states = undefined;
  gc();
  const floor = js();
  return { actors, seconds, rss: after.rss, heapUsed: after.heapUsed, maxRss: maxRss(), mapBytes: all - floor, floorBytes: floor };
}

const script = fileURLToPath(import.meta.url);
const testDir = fileURLToPath(new URL('..', import.meta.url));

/** Runs one point in a child process and returns its one JSON line. */
function child<T>(args: readonly string[]): Promise<T> {
  return runJsonChild<T>(`rss ${args.join(' ')}`, script, args, { cwd: testDir, maxOldSpaceMiB: 8192 });
}

export async function benchRss(o: RssOptions, log: (text: string) => void): Promise<RssResults> {
  const points: RssPoint[] = [];
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  for (const actors of o.actors) {
    const runtime = await child<RuntimeChild>(['runtime', String(actors), String(o.window), 'discard']);
    const memory = o.memoryStoreAt.includes(actors) ? await child<RuntimeChild>(['runtime', String(actors), String(o.window), 'memory']) : undefined;
    const raw = await child<RawChild>(['raw', String(actors)]);
    points.push({ actors, runtime, ...(memory ? { memory } : {}), raw });
    log(
      `curves: memory after ${actors.toLocaleString('en-US')} actors (${Math.round(runtime.commandsPerSecond)} cmd/s, ${runtime.liveActors} live): ` +
        `RSS ${mib(runtime.rss)}, runtime ${mib(runtime.runtimeBytes)}` +
        `${memory ? `; on a MemoryStore: RSS ${mib(memory.rss)}, runtime ${mib(memory.runtimeBytes)}, store ${mib(memory.storeBytes)}` : ''}; raw Map ${mib(raw.mapBytes)}, RSS ${mib(raw.rss)}`,
    );
  }
  return { liveActorsMax: runtimeDefaults.liveActorsMax, idleTimeoutMs: runtimeDefaults.idleTimeoutMs, window: o.window, points };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, n, window = '1000', storeKind = 'discard'] = process.argv.slice(2);
  const result = mode === 'runtime' ? await runtimeChild(Number(n), Number(window), storeKind as StoreKind) : mode === 'raw' ? rawChild(Number(n)) : undefined;
  if (!result) throw new Error('usage: rss.ts runtime|raw <actors> [window]');
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
