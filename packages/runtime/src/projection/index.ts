export { defineProjection, statesProjection, type ProjectionSpec, type ProjectionDefinition, type ViewRows } from './defineProjection.js';
export { ViewState } from './viewState.js';
export { MemoryView, type MemoryViewOptions, type ViewChange } from './memoryView.js';
export { viewFromScratch } from './fromScratch.js';
