import type { computeMerge } from '../resolution/index.js';
import type { RuntimeOptions } from './runtime.js';

/** Computes the merge pack of several heads; `computeMerge` is the one troupe ships. */
export type MergeStrategy = typeof computeMerge;

/**
 * Where `withMergeStrategy` hides a replacement resolution in the options: a symbol, so it is not
 * part of the public `RuntimeOptions` and no app sets it by accident.
 */
export const mergeStrategyOption: unique symbol = Symbol.for('troupe.mergeStrategy');

/**
 * The options with divergence resolution replaced by `strategy`. Only for testing checkers (the
 * simulator plugs in deliberately broken resolutions to show its checkers catch them); exported
 * from `@troupe/runtime/testkit`.
 */
export function withMergeStrategy(options: RuntimeOptions, strategy: MergeStrategy): RuntimeOptions {
  return { ...options, [mergeStrategyOption]: strategy } as RuntimeOptions;
}

export function mergeStrategyOf(options: RuntimeOptions): MergeStrategy | undefined {
  return (options as { [mergeStrategyOption]?: MergeStrategy })[mergeStrategyOption];
}
