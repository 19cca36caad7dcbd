import { TroupeError } from './troupeError.js';

export class RuntimeStoppedError extends TroupeError {
  constructor() {
    super('RUNTIME_STOPPED', 'the runtime is stopped: no new commands are accepted');
  }
}
