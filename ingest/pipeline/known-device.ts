import type { Step } from './types.js';

/**
 * Rejects events from devices the site's gateway did not declare in its
 * inventory. Sites that have not published an inventory yet are not checked
 * (their first events must not be lost while the inventory is on its way).
 */
export function knownDeviceStep(devicesOf: (siteId: string) => Set<string> | undefined): Step {
  return {
    name: 'known-device',
    run(ctx) {
      const env = ctx.envelope!;
      const known = devicesOf(env.siteId);
      if (!known || env.deviceId === ctx.gateway.gatewayId || known.has(env.deviceId)) return undefined;
      return {
        status: 'rejected',
        code: 'DEVICE_UNKNOWN',
        message: `/deviceId: '${env.deviceId}' is not in the inventory of site ${env.siteId}`,
      };
    },
  };
}
