/** @troupe/rabbitmq: the troupe command bus on RabbitMQ (client, worker, topology). */
export { CommandBus, connectBus, checkTopology, busDefaults, type BusOptions, type SendOptions } from './client.js';
export { Worker, startWorker, workerDefaults, type WorkerOptions, type WorkerHooks } from './worker.js';
export { topology, topologyDefaults, shardOf, declareTopology, deleteTopology, type Topology, type TopologyOptions } from './topology.js';
export { BusUnavailableError, CommandTimeoutError, CommandFailedError, TopologyMismatchError } from './errors.js';
export { WorkerMetrics, type CommandOutcome } from './metrics.js';
export { defaultAmqpUrl, redactUrl } from './connection.js';
export { encodeCommand, decodeCommand, encodeReply, decodeReply, busProtocolVersion, MalformedMessageError, type CommandMessage, type ReplyMessage } from './protocol.js';
export { Membership, ownerOf } from './membership.js';
