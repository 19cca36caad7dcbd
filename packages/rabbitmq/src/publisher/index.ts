export { Publisher, startPublisher, publisherFatalCodes, type PublisherStatus } from './publisher.js';
export { type PublisherOptions, publisherDefaults, eventsExchange, publisherCheckpointName } from './options.js';
export {
  type MergeMarker,
  type Publication,
  type OutgoingMessage,
  decodePublication,
  eventMessage,
  mergeMarkerMessage,
  mergeMarkerId,
  mergeMarkerType,
  publicationVersion,
  publicationContentType,
} from './messages.js';
export { mergeMarker } from './mergeOrder.js';
export { PublisherMetrics } from './metrics.js';
