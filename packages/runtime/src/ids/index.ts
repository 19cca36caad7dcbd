export { type Clock, systemClock, ManualClock } from './clock.js';
export {
  type EventId,
  type IdSource,
  type FlakeIdSourceOptions,
  FlakeIdSource,
  parseEventId,
  machineIdFor,
  machineIdMax,
} from './flakeIds.js';
