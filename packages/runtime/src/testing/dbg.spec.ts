import { it } from 'vitest';
import { VC } from '../index.js';
import { checkInvariants, run } from './replicationScenario.js';
import { Ledger } from './ledger.js';
it('dbg', async () => {
  const s = {"replicas":2,"liveActorsMax":1,"skewMs":[0,0,0,0,0],"steps":[{"kind":"command","replica":0,"actor":2,"op":"deposit","n":1,"retryOf":undefined},{"kind":"command","replica":0,"actor":0,"op":"deposit","n":1,"retryOf":0},{"kind":"command","replica":1,"actor":2,"op":"deposit","n":1,"retryOf":0},{"kind":"command","replica":1,"actor":2,"op":"deposit","n":1,"retryOf":undefined},{"kind":"sync","from":0,"to":1,"resolve":false},{"kind":"command","replica":0,"actor":0,"op":"deposit","n":1,"retryOf":undefined},{"kind":"command","replica":1,"actor":2,"op":"deposit","n":1,"retryOf":undefined},{"kind":"sync","from":0,"to":0,"resolve":false},{"kind":"burst","replica":0,"actor":0,"n":2},{"kind":"sync","from":0,"to":0,"resolve":false},{"kind":"link","a":0,"b":0,"up":false},{"kind":"command","replica":0,"actor":0,"op":"deposit","n":1,"retryOf":undefined},{"kind":"healAll"},{"kind":"link","a":0,"b":0,"up":false},{"kind":"command","replica":0,"actor":0,"op":"deposit","n":1,"retryOf":undefined},{"kind":"command","replica":0,"actor":0,"op":"deposit","n":1,"retryOf":undefined},{"kind":"link","a":0,"b":0,"up":false},{"kind":"healAll"},{"kind":"clock","replica":0,"deltaMs":0},{"kind":"command","replica":0,"actor":0,"op":"deposit","n":1,"retryOf":undefined},{"kind":"command","replica":0,"actor":0,"op":"deposit","n":1,"retryOf":undefined},{"kind":"link","a":0,"b":0,"up":false},{"kind":"burst","replica":1,"actor":0,"n":3}]} as any;
  const o = await run(s);
  console.log(o.trace.join('\n'));
  for (const r of [0, 1]) {
    const ref = Ledger.ref('acc0');
    console.log('replica', r, JSON.stringify(await o.cluster.runtimes[r]!.inspect(ref)));
    for (const p of await o.cluster.allPacks(r, ref)) console.log(p.kind, VC.encode(p.version), p.parents.map(VC.encode), p.commandIds, p.events.map(e => e.id + ' ' + e.type), JSON.stringify(p.state));
  }
  await checkInvariants(o);
});
