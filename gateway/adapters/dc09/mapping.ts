import type { ContactIdEvent } from './contact-id.js';
import type { SiaEvent } from './sia.js';

/**
 * Normalises Contact ID and SIA codes into one panel event shape that the
 * rest of carewatch understands. Unknown codes are kept (category `other`,
 * original code) rather than dropped: a receiver must not lose an event
 * because its table is incomplete.
 */

export type PanelCategory =
  | 'fire'
  | 'medical'
  | 'panic'
  | 'duress'
  | 'burglary'
  | 'trouble'
  | 'open_close'
  | 'test'
  | 'other';

export type PanelQualifier = 'new' | 'restore' | 'still_present';

export interface PanelEvent {
  category: PanelCategory;
  /** Original code: 3 digits for Contact ID (`110`), 2 letters for SIA (`FA`). */
  code: string;
  qualifier: PanelQualifier;
  zone: number | null;
  partition: number | null;
  description: string;
  /** User number for open/close and similar, when known. */
  user?: number | null;
  source: 'cid' | 'sia';
}

// ---- Contact ID ------------------------------------------------------------

const CID_NAMES: Record<string, string> = {
  '100': 'Medical alarm',
  '101': 'Personal emergency',
  '102': 'Fail to report in',
  '110': 'Fire alarm',
  '111': 'Smoke detector',
  '112': 'Combustion',
  '113': 'Water flow',
  '114': 'Heat detector',
  '115': 'Manual call point',
  '116': 'Duct smoke',
  '117': 'Flame detector',
  '118': 'Fire near alarm',
  '120': 'Panic alarm',
  '121': 'Duress',
  '122': 'Silent panic',
  '123': 'Audible panic',
  '130': 'Burglary',
  '131': 'Perimeter burglary',
  '132': 'Interior burglary',
  '133': '24-hour burglary',
  '134': 'Entry/exit burglary',
  '135': 'Day/night burglary',
  '136': 'Outdoor burglary',
  '137': 'Tamper',
  '139': 'Burglary verified',
  '140': 'General alarm',
  '144': 'Sensor tamper',
  '151': 'Gas detected',
  '154': 'Water leakage',
  '158': 'High temperature',
  '162': 'Carbon monoxide detected',
  '300': 'System trouble',
  '301': 'AC power loss',
  '302': 'Low system battery',
  '305': 'System reset',
  '309': 'Battery test failure',
  '311': 'Battery missing/dead',
  '321': 'Bell/siren trouble',
  '350': 'Communication trouble',
  '351': 'Telephone line fault',
  '354': 'Failure to communicate',
  '373': 'Fire loop trouble',
  '380': 'Sensor trouble',
  '381': 'Loss of RF supervision',
  '383': 'Sensor tamper',
  '384': 'RF sensor low battery',
  '400': 'Open/close',
  '401': 'Open/close by user',
  '402': 'Group open/close',
  '403': 'Automatic open/close',
  '406': 'Alarm cancelled by user',
  '407': 'Remote arm/disarm',
  '408': 'Quick arm',
  '409': 'Keyswitch open/close',
  '441': 'Armed stay',
  '570': 'Zone bypass',
  '601': 'Manual test',
  '602': 'Periodic test report',
  '603': 'Periodic RF transmission',
  '604': 'Fire test',
  '607': 'Walk test mode',
  '608': 'Periodic test, trouble present',
};

function cidCategory(code: string): PanelCategory {
  const n = /^\d{3}$/.test(code) ? Number(code) : -1;
  if (n >= 100 && n <= 109) return 'medical';
  if (n >= 110 && n <= 119) return 'fire';
  if (n === 121 || n === 124 || n === 125) return 'duress';
  if (n >= 120 && n <= 129) return 'panic';
  if ((n >= 130 && n <= 136) || n === 138 || n === 139 || n === 140) return 'burglary';
  if (n === 137 || (n >= 141 && n <= 145)) return 'trouble';
  if (n >= 200 && n <= 399) return 'trouble';
  if ((n >= 400 && n <= 409) || (n >= 441 && n <= 459)) return 'open_close';
  if ((n >= 601 && n <= 609) || (n >= 611 && n <= 615)) return 'test';
  return 'other';
}

const CID_QUALIFIER: Record<ContactIdEvent['qualifier'], PanelQualifier> = {
  new: 'new',
  restore: 'restore',
  status: 'still_present',
};

export function mapContactId(ev: ContactIdEvent): PanelEvent {
  const category = cidCategory(ev.code);
  const name = CID_NAMES[ev.code] ?? `Contact ID event ${ev.code}`;
  let description: string;
  if (category === 'open_close') {
    // In Contact ID, qualifier 1 on a 4xx code is an opening (disarm), 3 a closing (arm).
    description = `${ev.qualifier === 'restore' ? 'Close (armed)' : 'Open (disarmed)'}: ${name}, user ${ev.zone}`;
  } else {
    description = ev.qualifier === 'restore' ? `${name} restored` : name;
  }
  return {
    category,
    code: ev.code,
    qualifier: CID_QUALIFIER[ev.qualifier],
    zone: category === 'open_close' ? null : ev.zone,
    partition: ev.group,
    description,
    ...(category === 'open_close' ? { user: ev.zone } : {}),
    source: 'cid',
  };
}

// ---- SIA -------------------------------------------------------------------

interface SiaEntry {
  category: PanelCategory;
  qualifier: PanelQualifier;
  name: string;
  /** The address is a user number rather than a zone. */
  user?: boolean;
}

const e = (
  category: PanelCategory,
  name: string,
  qualifier: PanelQualifier = 'new',
  user = false,
): SiaEntry => ({
  category,
  qualifier,
  name,
  ...(user ? { user } : {}),
});

const SIA: Record<string, SiaEntry> = {
  FA: e('fire', 'Fire alarm'),
  FH: e('fire', 'Fire alarm restored', 'restore'),
  FR: e('fire', 'Fire restoral', 'restore'),
  FM: e('fire', 'Fire alarm, cross point verified'),
  FG: e('fire', 'Unverified fire event'),
  FC: e('fire', 'Fire alarm cancelled', 'restore'),
  FT: e('trouble', 'Fire trouble'),
  FJ: e('trouble', 'Fire trouble restored', 'restore'),
  FS: e('trouble', 'Fire supervisory'),
  FV: e('trouble', 'Fire supervisory restored', 'restore'),
  FI: e('test', 'Fire test begin'),
  FK: e('test', 'Fire test end', 'restore'),
  FX: e('test', 'Fire zone test'),
  KA: e('fire', 'Heat alarm'),
  KH: e('fire', 'Heat alarm restored', 'restore'),
  KR: e('fire', 'Heat restoral', 'restore'),
  MA: e('medical', 'Medical alarm'),
  MH: e('medical', 'Medical alarm restored', 'restore'),
  MR: e('medical', 'Medical restoral', 'restore'),
  PA: e('panic', 'Panic alarm'),
  PH: e('panic', 'Panic alarm restored', 'restore'),
  PR: e('panic', 'Panic restoral', 'restore'),
  HA: e('duress', 'Hold-up / duress alarm'),
  HH: e('duress', 'Hold-up / duress alarm restored', 'restore'),
  HR: e('duress', 'Hold-up restoral', 'restore'),
  BA: e('burglary', 'Burglary alarm'),
  BH: e('burglary', 'Burglary alarm restored', 'restore'),
  BR: e('burglary', 'Burglary restoral', 'restore'),
  BV: e('burglary', 'Burglary verified'),
  BM: e('burglary', 'Burglary alarm, cross point verified'),
  BC: e('burglary', 'Burglary alarm cancelled', 'restore', true),
  BT: e('trouble', 'Burglary zone trouble'),
  BJ: e('trouble', 'Burglary trouble restored', 'restore'),
  TA: e('trouble', 'Tamper alarm'),
  TR: e('trouble', 'Tamper restored', 'restore'),
  AT: e('trouble', 'AC power loss'),
  AR: e('trouble', 'AC power restored', 'restore'),
  YT: e('trouble', 'System battery trouble'),
  YR: e('trouble', 'System battery restored', 'restore'),
  YP: e('trouble', 'Power supply trouble'),
  YQ: e('trouble', 'Power supply restored', 'restore'),
  YC: e('trouble', 'Communications fail'),
  YK: e('trouble', 'Communications restored', 'restore'),
  XT: e('trouble', 'Transmitter battery low'),
  XR: e('trouble', 'Transmitter battery restored', 'restore'),
  LT: e('trouble', 'Phone line trouble'),
  LR: e('trouble', 'Phone line restored', 'restore'),
  NT: e('trouble', 'Network failure'),
  NR: e('trouble', 'Network restored', 'restore'),
  ET: e('trouble', 'Expansion device trouble'),
  ER: e('trouble', 'Expansion device restored', 'restore'),
  UT: e('trouble', 'Untyped zone trouble'),
  UJ: e('trouble', 'Untyped zone trouble restored', 'restore'),
  OP: e('open_close', 'Opening (disarmed)', 'new', true),
  CL: e('open_close', 'Closing (armed)', 'restore', true),
  OA: e('open_close', 'Automatic opening'),
  CA: e('open_close', 'Automatic closing', 'restore'),
  OG: e('open_close', 'Area opened'),
  CG: e('open_close', 'Area closed', 'restore'),
  OR: e('open_close', 'Disarmed from alarm', 'new', true),
  RP: e('test', 'Automatic (periodic) test'),
  RX: e('test', 'Manual test'),
  TX: e('test', 'Test report'),
  TS: e('test', 'Test start'),
  TE: e('test', 'Test end', 'restore'),
  GA: e('other', 'Gas alarm'),
  GH: e('other', 'Gas alarm restored', 'restore'),
  WA: e('other', 'Water alarm'),
  WH: e('other', 'Water alarm restored', 'restore'),
};

export function mapSia(ev: SiaEvent): PanelEvent {
  const entry = SIA[ev.code];
  const category = entry?.category ?? 'other';
  const name = entry?.name ?? `SIA event ${ev.code}`;
  const user = entry?.user ? ev.address : ev.user;
  let description = name;
  if (user !== null && user !== undefined && category === 'open_close') description += `, user ${user}`;
  if (ev.text) description += ` (${ev.text})`;
  return {
    category,
    code: ev.code,
    qualifier: entry?.qualifier ?? 'new',
    zone: entry?.user ? null : ev.address,
    partition: ev.area,
    description,
    ...(user !== null && user !== undefined ? { user } : {}),
    source: 'sia',
  };
}

/** The SIA codes this table knows (for tests and docs). */
export const KNOWN_SIA_CODES: readonly string[] = Object.keys(SIA);
