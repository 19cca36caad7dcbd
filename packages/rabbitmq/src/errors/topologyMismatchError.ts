import { TroupeError } from '@troupe/runtime';
import type { BusErrorCode } from './busErrorCode.js';

/** The broker's queues do not match this process's topology (prefix or shard count). */
export class TopologyMismatchError extends TroupeError<BusErrorCode> {
  constructor(detail: string) {
    super('TOPOLOGY_MISMATCH', detail);
  }
}
