/**
 * `@troupe/rabbitmq/protocol`: the bus's wire format, for tools and clients that publish or read
 * bus messages without `CommandBus` (a client in another process model, a bench's raw baseline,
 * a dead-letter inspector). The README's "Wire protocol" section describes the same for other
 * languages. App authors need none of it.
 */
export {
  busProtocolVersion,
  encodeCommand,
  decodeCommand,
  encodeReply,
  decodeReply,
  type CommandMessage,
  type ReplyMessage,
} from './messages.js';
export {
  replicasMax,
  replicasTimeoutMsMax,
  type Replicas,
  type ReplicationReport,
  type ReplicationShortfall,
  type BusReply,
} from './replication.js';
export { MalformedMessageError } from '../errors/index.js';
export { shardOf } from '../topology.js';
