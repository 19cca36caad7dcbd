import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** A region set-up that cannot work: a region named twice, a source that is this region, no regions declared, a store of another deployment. */
export class RegionConfigError extends TroupeError<RuntimeErrorCode> {
  constructor(detail: string) {
    super('REGION_CONFIG', detail);
  }
}
