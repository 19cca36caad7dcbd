export type { EventStore, Chain, Changes, MergeReport } from './eventStore.js';
export { MemoryStore } from './memoryStore.js';
export { nextHeads, sameKeySet } from './heads.js';
