import { troupeVitestConfig } from '../vitest.shared.js';

export default troupeVitestConfig({ include: ['**/*.spec.ts'], exclude: ['node_modules/**'], testTimeout: 60_000 });
