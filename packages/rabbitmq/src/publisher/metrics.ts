import { type MetricsEndpoint, serveMetrics } from '../metricsServer.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the lag gauges read when scraped. */
export interface PublisherLag {
  /** Packs in the log after the saved position, as last measured (-1: the store cannot tell). */
  readonly packs: number;
  /** Age of the newest pack of the last batch published, when it was published (0 once caught up), ms. */
  readonly ms: number;
}

/** A publisher's Prometheus metrics, in their own registry. */
export class PublisherMetrics {
  readonly registry = new Registry();
  readonly events: Counter<'actor_type'>;
  readonly markers: Counter<'actor_type'>;
  readonly packs: Counter;
  readonly batches: Counter;
  readonly failures: Counter<'code'>;
  readonly batchDuration: Histogram;
  readonly connected: Gauge;

  constructor(lag: () => PublisherLag, defaultMetrics: boolean) {
    const registers = [this.registry];
    this.events = new Counter({ name: 'troupe_publish_events_total', help: 'Events published and confirmed by the broker (republished ones after a restart counted again)', labelNames: ['actor_type'], registers });
    this.markers = new Counter({ name: 'troupe_publish_merge_markers_total', help: 'Merge markers published and confirmed', labelNames: ['actor_type'], registers });
    this.packs = new Counter({ name: 'troupe_publish_packs_total', help: 'Packs of the log published (their checkpoint saved)', registers });
    this.batches = new Counter({ name: 'troupe_publish_batches_total', help: 'Batches published, confirmed and checkpointed', registers });
    this.failures = new Counter({ name: 'troupe_publish_failures_total', help: 'Batches that failed (broker or store) and were retried after a backoff, by code', labelNames: ['code'], registers });
    this.batchDuration = new Histogram({
      name: 'troupe_publish_batch_duration_seconds',
      help: 'From reading a batch from the log to its checkpoint saved (publish and confirms included)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.connected = new Gauge({ name: 'troupe_publish_connected', help: '1 while the publisher holds a channel to the broker, 0 while it reconnects', registers });
    new Gauge({
      name: 'troupe_publish_lag_packs',
      help: 'Packs in the log not yet published (checkpointed), as last measured; -1 when the store cannot tell',
      registers,
      collect() {
        this.set(lag().packs);
      },
    });
    new Gauge({
      name: 'troupe_publish_lag_seconds',
      help: 'Age of the newest pack of the last batch published, at its publication (0 once caught up)',
      registers,
      collect() {
        this.set(lag().ms / 1000);
      },
    });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'troupe_publisher_' });
  }

  /** Serves `GET /metrics` on host:port (port 0 picks a free one); resolves to its URL. */
  serve(port: number, host = '127.0.0.1'): Promise<MetricsEndpoint> {
    return serveMetrics(this.registry, port, host);
  }

}
