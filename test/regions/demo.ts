/**
 * `npm run demo:regions`: three regions on this machine (the local redis-server program and
 * RabbitMQ), the bank workload through a partition, double spends, a heal, and what happened.
 * Exits 1 when the regions did not converge or a check failed. `--seed <n>` replays a workload.
 */
import { regionServicesAvailable } from './gates.js';
import { formatScenario } from './report.js';
import { runRegionsScenario } from './scenario.js';
import { requireBuiltCli } from './troupeProcess.js';

const seedFlag = process.argv.indexOf('--seed');
const seed = seedFlag >= 0 ? Number(process.argv[seedFlag + 1]) : undefined;
if (seed !== undefined && !Number.isSafeInteger(seed)) {
  console.error(`demo:regions: --seed takes a whole number, got '${process.argv[seedFlag + 1]}'`);
  process.exit(2);
}

try {
  requireBuiltCli();
  if (!(await regionServicesAvailable())) {
    console.error('demo:regions needs RabbitMQ on 127.0.0.1:5672 and the redis-server program (see above)');
    process.exit(1);
  }
  const result = await runRegionsScenario({ ...(seed === undefined ? {} : { seed }), progress: (line) => console.log(`.. ${line}`) });
  console.log();
  process.stdout.write(formatScenario(result));
  process.exitCode = result.ok ? 0 : 1;
} catch (error) {
  console.error('demo:regions failed:', error);
  process.exitCode = 1;
}
