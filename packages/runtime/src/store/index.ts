export type { EventStore, Chain, Changes, HistoryOptions, MergeReport } from './eventStore.js';
export { causalOrder, historyPacksMax } from './causalOrder.js';
export { MemoryStore } from './memoryStore.js';
export { nextHeads, sameKeySet } from './heads.js';
export { redactUrl } from './redactUrl.js';
