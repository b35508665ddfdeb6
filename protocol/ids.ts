import { Type } from '@sinclair/typebox';
import { uuidv7 } from 'uuidv7';

/** Site, device and gateway ids: safe as one MQTT topic level and as a file name. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const ID_REGEX = new RegExp(ID_PATTERN);

export const SiteId = Type.String({ pattern: ID_PATTERN, description: 'site (institution premises) id' });
export const DeviceId = Type.String({ pattern: ID_PATTERN, description: 'device id, unique within a site' });

/** RFC 9562 UUIDv7: time-ordered, minted at the source. */
export const UUIDV7_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';
export const EventId = Type.String({ pattern: UUIDV7_PATTERN, description: 'UUIDv7 minted at the source' });

export function mintId(): string {
  return uuidv7();
}

export function isValidId(s: string): boolean {
  return ID_REGEX.test(s);
}
