import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['**/*.spec.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 60_000,
  },
});
