/**
 * @troupe/rabbitmq: the troupe command bus on RabbitMQ. The root holds what an app author or an
 * operator needs: the client, the worker, the event publisher, their options and defaults, the
 * topology helpers and every error class. The wire format is `@troupe/rabbitmq/protocol`.
 */
export {
  CommandBus,
  connectBus,
  busDefaults,
  type BusOptions,
  type SendOptions,
  type BusReply,
  type Replicas,
  type ReplicationReport,
  type ReplicationShortfall,
} from './client/index.js';
export { Worker, startWorker, workerDefaults, type WorkerOptions, type WorkerHooks } from './worker/index.js';
export { topology, topologyDefaults, declareTopology, deleteTopology, type Topology, type TopologyOptions } from './topology.js';
export { defaultAmqpUrl, type AmqpTls } from './connection.js';
export { serveMetrics, type MetricsEndpoint } from './metricsServer.js';
export {
  Publisher,
  startPublisher,
  publisherDefaults,
  decodePublication,
  type PublisherOptions,
  type PublisherStatus,
  type MergeMarker,
  type Publication,
} from './publisher/index.js';
export {
  type BusErrorCode,
  type RemoteErrorCode,
  BusUnavailableError,
  CommandTimeoutError,
  CommandFailedError,
  TopologyMismatchError,
  MalformedMessageError,
  ActorFailedError,
  InvalidReplyToError,
} from './errors/index.js';
