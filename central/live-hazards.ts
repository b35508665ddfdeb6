import { HazardService } from '../alerts/hazards/service.js';
import type { Hazard } from '../alerts/hazards/types.js';

export type HazardChange = 'assigned' | 'closed';

/**
 * The hazard service with a listener for the changes users make (assign,
 * close), which have no bus notice of their own; the central pushes them to
 * the supervisors' WebSocket. Opened and overdue arrive on the bus.
 */
export class LiveHazardService extends HazardService {
  constructor(
    deps: ConstructorParameters<typeof HazardService>[0],
    private readonly changed: (hazard: Hazard, change: HazardChange) => void,
  ) {
    super(deps);
  }

  override async assign(...args: Parameters<HazardService['assign']>): Promise<Hazard> {
    const hazard = await super.assign(...args);
    this.changed(hazard, 'assigned');
    return hazard;
  }

  override async close(...args: Parameters<HazardService['close']>): Promise<Hazard> {
    const hazard = await super.close(...args);
    this.changed(hazard, 'closed');
    return hazard;
  }
}
