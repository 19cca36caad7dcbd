import { type MetricsEndpoint, serveMetrics } from '@troupe/rabbitmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LinkStatus, RegionReplicationObserver, RuntimeObserver } from '@troupe/runtime';

/** The Prometheus metrics of `troupe replicate`, in their own registry. */
export class ReplicationMetrics {
  readonly registry = new Registry();
  readonly packsCopied: Counter<'source'>;
  readonly packsSkipped: Counter<'source'>;
  readonly linkFailures: Counter<'source'>;
  readonly divergences: Counter<'actor_type'>;
  readonly merges: Counter<'actor_type'>;
  readonly compensations: Counter<'actor_type'>;
  readonly resolutionFailures: Counter<'actor_type'>;
  readonly divergenceToMerge: Histogram<'actor_type'>;

  constructor(links: () => readonly LinkStatus[], defaultMetrics = true) {
    const registers = [this.registry];
    const perLink = (name: string, help: string, value: (link: LinkStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['source'],
        registers,
        collect() {
          for (const link of links()) this.set({ source: link.source }, value(link));
        },
      });
    perLink('troupe_replication_lag_packs', 'Packs in the source region\'s log not yet copied here, as last measured', (l) => l.lagPacks);
    perLink('troupe_replication_lag_seconds', 'Age of the oldest pack in the last batch copied from the source (0 once caught up)', (l) => l.lagMs / 1000);
    perLink('troupe_replication_link_up', '1 while the last sync from the source succeeded, 0 when it failed or the link is broken', (l) => (l.state === 'up' ? 1 : 0));
    perLink('troupe_replication_link_broken', '1 when the link stopped for good (a cursor the source did not hand out, another deployment)', (l) => (l.state === 'broken' ? 1 : 0));
    this.packsCopied = new Counter({ name: 'troupe_replication_packs_copied_total', help: 'Packs copied from the source that were new here', labelNames: ['source'], registers });
    this.packsSkipped = new Counter({ name: 'troupe_replication_packs_skipped_total', help: 'Packs read from the source that were already here (idempotent copies)', labelNames: ['source'], registers });
    this.linkFailures = new Counter({ name: 'troupe_replication_link_failures_total', help: 'Syncs from the source that failed (each followed by a backoff)', labelNames: ['source'], registers });
    this.divergences = new Counter({ name: 'troupe_replication_divergences_total', help: 'Actors found with several heads after a copy', labelNames: ['actor_type'], registers });
    this.merges = new Counter({ name: 'troupe_replication_merges_total', help: 'Merge packs written here by the replicator', labelNames: ['actor_type'], registers });
    this.compensations = new Counter({ name: 'troupe_replication_compensations_total', help: 'Compensation events onMerge emitted in those merges', labelNames: ['actor_type'], registers });
    this.resolutionFailures = new Counter({ name: 'troupe_replication_resolution_failures_total', help: 'Resolutions that failed (retried on the next sync)', labelNames: ['actor_type'], registers });
    this.divergenceToMerge = new Histogram({
      name: 'troupe_replication_divergence_to_merge_seconds',
      help: 'From the first event after the common ancestor to the merge pack being written',
      labelNames: ['actor_type'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'troupe_replicate_' });
  }

  /** Counts the runtime's resolutions (the replicator's runtime only resolves). */
  runtimeObserver(): RuntimeObserver {
    return {
      resolving: ({ actor }) => this.divergences.inc({ actor_type: actor.type }),
      resolved: ({ actor, record }) => {
        this.merges.inc({ actor_type: actor.type });
        this.compensations.inc({ actor_type: actor.type }, record.compensations.length);
        this.divergenceToMerge.observe({ actor_type: actor.type }, Math.max(0, record.mergedAt - record.divergedAt) / 1000);
      },
      resolutionFailed: ({ actor }) => this.resolutionFailures.inc({ actor_type: actor.type }),
    };
  }

  /** Counts what the links do. */
  linkObserver(): RegionReplicationObserver {
    return {
      batch: ({ source, batch }) => {
        this.packsCopied.inc({ source }, batch.copied);
        this.packsSkipped.inc({ source }, batch.skipped);
      },
      linkDown: ({ source }) => this.linkFailures.inc({ source }),
    };
  }

  /** Serves `GET /metrics` on host:port (port 0 picks a free one); resolves to its URL. */
  serve(port: number, host = '127.0.0.1'): Promise<MetricsEndpoint> {
    return serveMetrics(this.registry, port, host);
  }

}
