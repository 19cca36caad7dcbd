export type { BusErrorCode, RemoteErrorCode } from './busErrorCode.js';
export { BusUnavailableError } from './busUnavailableError.js';
export { CommandTimeoutError } from './commandTimeoutError.js';
export { CommandFailedError } from './commandFailedError.js';
export { TopologyMismatchError } from './topologyMismatchError.js';
export { MalformedMessageError } from './malformedMessageError.js';
export { ActorFailedError } from './actorFailedError.js';
export { InvalidReplyToError } from './invalidReplyToError.js';
