import { parseAdmCidData } from './contact-id.js';
import type { Dc09Frame } from './frame.js';
import { mapContactId, mapSia, type PanelEvent } from './mapping.js';
import { parseSiaData } from './sia.js';

/**
 * Turns the data block of a validated frame into normalised panel events.
 * `NULL` carries none. Throws CarewatchError DC09_BAD_CID / DC09_BAD_SIA when
 * the data cannot be read (the receiver answers DUH).
 */
export function decodeEvents(frame: Pick<Dc09Frame, 'id' | 'data'>): PanelEvent[] {
  switch (frame.id) {
    case 'NULL':
      return [];
    case 'ADM-CID':
      return [mapContactId(parseAdmCidData(frame.data))];
    case 'SIA-DCS':
      return parseSiaData(frame.data).events.map(mapSia);
  }
}
