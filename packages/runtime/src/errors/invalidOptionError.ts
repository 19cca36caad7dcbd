import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** An option with a value troupe cannot use: the message names the option and what it accepts. */
export class InvalidOptionError extends TroupeError<RuntimeErrorCode> {
  readonly option: string;
  constructor(option: string, detail: string) {
    super('INVALID_OPTION', `option '${option}': ${detail}`);
    this.option = option;
  }
}
