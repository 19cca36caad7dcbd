/** The client: sends commands to actors over RabbitMQ and waits for their replies. */
export { CommandBus, connectBus } from './commandBus.js';
export { busDefaults, type BusOptions, type SendOptions } from './options.js';
export type { BusReply, Replicas, ReplicationReport, ReplicationShortfall } from '../protocol/replication.js';
