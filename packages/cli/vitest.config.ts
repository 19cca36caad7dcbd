import { troupeVitestConfig } from '../../vitest.shared.js';

export default troupeVitestConfig({ include: ['src/**/*.spec.ts'], testTimeout: 60_000 });
