import { type MetricsEndpoint, serveMetrics } from '../metricsServer.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcomes a worker counts commands by. */
export type CommandOutcome = 'accepted' | 'duplicate' | 'rejected' | 'dead_lettered';

/** A worker's Prometheus metrics, in their own registry (several workers can share a process). */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly commands: Counter<'outcome'>;
  readonly latency: Histogram;
  readonly appendConflicts: Counter;
  readonly resolutions: Counter;
  readonly resolutionFailures: Counter;
  readonly passivations: Counter<'reason'>;
  readonly redeliveries: Counter;
  readonly transientFailures: Counter<'code'>;
  readonly fatalErrors: Counter<'code'>;
  readonly replyConnectionLosses: Counter;
  readonly replicationWait: Histogram;
  readonly replicationUnconfirmed: Counter<'code'>;
  readonly replicationWaiting: Gauge;
  readonly liveActors: Gauge;
  readonly workers: Gauge;
  readonly ownedShards: Gauge;

  constructor(liveActors: () => number, defaultMetrics: boolean, membership: () => { workers: number; ownedShards: number } = () => ({ workers: 1, ownedShards: 0 })) {
    const registers = [this.registry];
    this.commands = new Counter({ name: 'troupe_commands_total', help: 'Commands handled, by outcome', labelNames: ['outcome'], registers });
    this.latency = new Histogram({
      name: 'troupe_command_duration_seconds',
      help: 'Time from delivery of a command to its result (then its reply and ack, or the start of its replication wait)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.appendConflicts = new Counter({ name: 'troupe_append_conflicts_total', help: 'Appends refused because the head moved (re-decided)', registers });
    this.resolutions = new Counter({ name: 'troupe_resolutions_total', help: 'Divergent heads merged into a merge pack', registers });
    this.resolutionFailures = new Counter({ name: 'troupe_resolution_failures_total', help: 'Merges that failed (retried on the actor\'s next message or sync)', registers });
    this.passivations = new Counter({ name: 'troupe_passivations_total', help: 'Actors dropped from memory, by reason (idle, capacity)', labelNames: ['reason'], registers });
    this.redeliveries = new Counter({ name: 'troupe_redeliveries_total', help: 'Messages the broker marked redelivered', registers });
    this.transientFailures = new Counter({ name: 'troupe_transient_failures_total', help: 'Executions retried after a transient failure', labelNames: ['code'], registers });
    this.fatalErrors = new Counter({ name: 'troupe_fatal_errors_total', help: 'Store errors that stopped the worker (data lost, credentials refused)', labelNames: ['code'], registers });
    this.replyConnectionLosses = new Counter({
      name: 'troupe_reply_connection_losses_total',
      help: 'Times the reply connection was lost (its replies in flight with it): RabbitMQ closes it for a reply to a client on a node that is not there, dead or forged',
      registers,
    });
    this.replicationWait = new Histogram({
      name: 'troupe_replication_wait_seconds',
      help: 'Time a reply of a command sent with replicas waited for its pack to reach the regions asked for, confirmed or not',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.replicationUnconfirmed = new Counter({
      name: 'troupe_replication_unconfirmed_total',
      help: 'Accepted replies of commands sent with replicas whose replication was not confirmed, by code (NOT_REPLICATED: timed out; WAIT_LIMIT; INTERRUPTED; a configuration or store error code)',
      labelNames: ['code'],
      registers,
    });
    this.replicationWaiting = new Gauge({ name: 'troupe_replication_waiting', help: 'Replies waiting now for their pack to reach other regions', registers });
    this.liveActors = new Gauge({
      name: 'troupe_live_actors',
      help: 'Actors in memory',
      registers,
      collect() {
        this.set(liveActors());
      },
    });
    this.workers = new Gauge({
      name: 'troupe_workers',
      help: 'Workers this one sees consuming the same topology, itself included',
      registers,
      collect() {
        this.set(membership().workers);
      },
    });
    this.ownedShards = new Gauge({
      name: 'troupe_owned_shards',
      help: 'Shards that rendezvous hashing over the live workers gives to this worker',
      registers,
      collect() {
        this.set(membership().ownedShards);
      },
    });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'troupe_worker_' });
  }

  /** Serves `GET /metrics` on host:port (port 0 picks a free one); resolves to its URL. */
  serve(port: number, host = '127.0.0.1'): Promise<MetricsEndpoint> {
    return serveMetrics(this.registry, port, host);
  }

}
