import { afterEach, beforeEach, describe } from 'vitest';
import type { EventStore } from '../../store/index.js';
import { appendTests } from './append.js';
import { loadChainTests } from './chains.js';
import { commandVersionsTests } from './commands.js';
import { commandOnceTests } from './commandsOnce.js';
import { appendConflictTests } from './conflicts.js';
import { divergentHeadsTests } from './heads.js';
import { historyTests } from './history.js';
import { isolationTests } from './isolation.js';
import { changesSinceTests } from './log.js';
import { mergeTests } from './merge.js';
import { mergeLogTests } from './mergeLog.js';
import { regionLogTests } from './regionLog.js';
import { shippedSnapshotTests } from './snapshots.js';
import type { CapabilitySuite, CurrentStore } from './support.js';

/**
 * The EventStore conformance suite. Every store implementation runs it:
 *
 * ```ts
 * runStoreConformance({ name: 'RedisStore', create: async () => new RedisStore(...), cleanup: (s) => s.close() });
 * ```
 *
 * Each test creates its own store with `create()` and only touches actors with fresh random ids,
 * so the suite also runs against a database shared with other tests. The global replication log
 * (`changesSince`) may then hold packs of others: the suite only looks at its own actors there.
 */
export interface ConformanceOptions {
  /** Shown in the describe() title. */
  name: string;
  /** A store ready to use. Called once per test. */
  create: () => Promise<EventStore>;
  /** Tears a store down after its test (and must close it). Default: `store.close()`. */
  cleanup?: (store: EventStore) => Promise<void>;
  /**
   * The store implements `RegionLog` (region replication: checkpoints, backlog, log marks, the
   * frontier table, the declared regions). True: a store without it fails the suite. Otherwise
   * the "region log" group runs for a store that implements it and is skipped for one that does not.
   */
  regionLog?: boolean;
  /** The store implements `MergeLog` (merge records), as `regionLog` is for `RegionLog`. */
  mergeLog?: boolean;
  /**
   * A new store object over the data of `store`, as a process that connects again would get
   * (the suite closes it with `close()`, then cleans `store` up as usual). The tests of what
   * survives it (checkpoints, frontier table, regions, merge records) are skipped without it:
   * leave it out for a store whose data lives in the object (MemoryStore).
   */
  reopen?: (store: EventStore) => Promise<EventStore>;
}

/** The groups of the suite, one per clause of the EventStore contract, in the order they run. */
const groups: readonly ((current: CurrentStore) => void)[] = [
  appendTests,
  appendConflictTests,
  commandOnceTests,
  loadChainTests,
  commandVersionsTests,
  changesSinceTests,
  mergeTests,
  divergentHeadsTests,
  shippedSnapshotTests,
  historyTests,
  isolationTests,
];

/** Registers the conformance suite for one store implementation (call it at the top level of a test file). */
export function runStoreConformance(options: ConformanceOptions): void {
  describe(`EventStore conformance: ${options.name}`, () => {
    let store: EventStore | undefined;

    beforeEach(async () => {
      store = await options.create();
    });

    afterEach(async () => {
      if (!store) return;
      if (options.cleanup) await options.cleanup(store);
      else await store.close();
      store = undefined;
    });

    const current: CurrentStore = () => {
      if (!store) throw new Error('the conformance suite has no store outside a test');
      return store;
    };
    for (const group of groups) group(current);
    const capability = (required: boolean | undefined): CapabilitySuite => ({ current, required: required === true, reopen: options.reopen });
    regionLogTests(capability(options.regionLog));
    mergeLogTests(capability(options.mergeLog));
  });
}
