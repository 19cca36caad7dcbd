import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

export class RuntimeStoppedError extends TroupeError<RuntimeErrorCode> {
  constructor() {
    super('RUNTIME_STOPPED', 'the runtime is stopped: no new commands are accepted');
  }
}
