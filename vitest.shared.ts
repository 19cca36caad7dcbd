import { defineConfig } from 'vitest/config';

/**
 * Vitest settings every workspace shares: workspace packages resolve to their TypeScript sources
 * (the 'source' export condition), so tests never run against a stale build.
 */
export function troupeVitestConfig(test: { include: string[]; exclude?: string[]; testTimeout: number }) {
  return defineConfig({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test,
  });
}
