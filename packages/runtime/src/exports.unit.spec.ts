import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * Every entry point's values, as documented in this package's README (section "API"). A new
 * export fails here until it is added to this list and to the README; an internal that leaks into
 * an entry point fails the same way.
 */
const documented: Record<string, readonly string[]> = {
  '@troupe/runtime': [
    'AppendConflictError', 'CorruptDataError', 'DuplicateCommandError', 'InvalidActorIdError', 'InvalidCursorError',
    'InvalidDecisionError', 'InvalidDefinitionError', 'InvalidOptionError', 'InvalidPayloadError', 'LimitExceededError',
    'MemoryStore', 'MissingAncestorError', 'OnMergeNotIdempotentError', 'ReplicationLink', 'ReplicationMesh', 'Replicator',
    'Runtime', 'RuntimeStoppedError', 'StoreUnavailableError', 'TroupeError', 'UnknownActorTypeError',
    'UnknownCommandError', 'VersionCollisionError', 'combineObservers', 'createRuntime', 'defaultSnapshotEvery',
    'defineActor', 'isRejection', 'reject', 'runtimeDefaults', 'untyped',
    'NotReplicatedError', 'RegionConfigError', 'RegionReplication', 'awaitReplicated', 'replicationState',
    'defineProjection', 'statesProjection', 'MemoryView', 'viewFromScratch', 'ProjectionError', 'ViewTimeoutError',
  ],
  '@troupe/runtime/store': [
    'AppendConflictError', 'CorruptDataError', 'DuplicateCommandError', 'FlakeIdSource', 'InvalidCursorError',
    'LimitExceededError', 'MissingAncestorError', 'StoreUnavailableError', 'TroupeError', 'VC', 'VersionCollisionError',
    'actorKey', 'canonical', 'causalOrder', 'commandPack', 'decodePack', 'decodeValue', 'encodePack', 'encodeValue',
    'fnv1a32', 'historyPacksMax', 'machineIdFor', 'nextHeads', 'packFingerprint', 'packFormatVersion', 'parseEventId',
    'redactUrl', 'sameKeySet',
    'RegionConfigError', 'isRegionLog', 'isMergeLog', 'mergeRecordsMax', 'laterEntry', 'mergeFrontierTables', 'frontierChanges',
    'cursorAtOrPast', 'parseRegionCursor', 'holdersOf', 'checkpointName', 'publishProgress',
  ],
  '@troupe/runtime/testkit': [
    'Ledger', 'ManualClock', 'ReferenceModel', 'TestCluster', 'appendChain', 'canConnect', 'deciderContextDefaults',
    'given', 'hasOpenssl', 'makeChain', 'makeEvent', 'makePack', 'makeTestCertificates', 'requireService', 'uniqueActor', 'uniqueSuffix', 'withMergeStrategy',
    'afterEveryWrite',
  ],
  '@troupe/runtime/testkit/conformance': ['checkReplicationInvariants', 'replicationCoverage', 'replicationScenario', 'runReplicationScenario', 'runStoreConformance'],
  '@troupe/runtime/resolution': [
    'commandHeads', 'compareEvents', 'computeMerge', 'copiesOf', 'defaultAncestryLimits', 'findDivergence', 'fold',
    'mergeReplica', 'snapshotWeight', 'stateAt', 'survivingCopy',
  ],
};

const modules: Record<string, () => Promise<Record<string, unknown>>> = {
  '@troupe/runtime': () => import('./index.js'),
  '@troupe/runtime/store': () => import('./adapterApi.js'),
  '@troupe/runtime/resolution': () => import('./resolutionApi.js'),
  '@troupe/runtime/testkit': () => import('./testkit/index.js'),
  '@troupe/runtime/testkit/conformance': () => import('./testkit/conformance/index.js'),
};

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };

describe('public entry points', () => {
  it('every entry point of package.json has its documented list (a new subpath fails until it has one)', () => {
    const entries = Object.keys(packageJson.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? '@troupe/runtime' : `@troupe/runtime/${key.slice(2)}`));
    expect(entries.sort()).toEqual(Object.keys(documented).sort());
    expect(Object.keys(modules).sort()).toEqual(Object.keys(documented).sort());
  });

  for (const [entry, names] of Object.entries(documented)) {
    it(`${entry} exports exactly its documented values`, async () => {
      expect(Object.keys(await modules[entry]!()).sort()).toEqual([...names].sort());
    });

    it(`${entry}: the README names every value it exports`, () => {
      // A whole name in backticks, or as the start of a call or a type (`name(`, `name<`): not a prefix of another name.
      const missing = names.filter((name) => !new RegExp(`\`${name}[\`(<. ]`).test(readme));
      expect(missing, `add these to the API section of packages/runtime/README.md`).toEqual([]);
    });
  }
});
