import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { CameraReport } from './camera-report.js';
import { Command, CommandReply } from './command.js';
import { EnvelopeHeader } from './envelope.js';
import { Inventory } from './inventory.js';
import { type Envelope, isKnownKind, KINDS, type KindName } from './kinds/index.js';
import { GatewayStatus } from './status.js';

/** Largest payload accepted on any carewatch topic. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export type RejectCode =
  | 'PAYLOAD_TOO_LARGE'
  | 'PAYLOAD_NOT_JSON'
  | 'ENVELOPE_INVALID'
  | 'KIND_UNKNOWN'
  | 'DATA_INVALID'
  | 'STATUS_INVALID'
  | 'COMMAND_INVALID'
  | 'INVENTORY_INVALID';

export type Decoded<T> = { ok: true; value: T } | { ok: false; code: RejectCode; message: string };

// ajv-formats is CommonJS; its default export is the plugin function.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv, formats: string[]) => Ajv;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
addFormats(ajv, ['date-time']);

function compile<T>(schema: TSchema): ValidateFunction<T> {
  const { $id: _ignored, ...rest } = schema as TSchema & { $id?: string };
  return ajv.compile<T>(rest);
}

const headerValidator = compile<EnvelopeHeader>(EnvelopeHeader);
const dataValidators = new Map<KindName, ValidateFunction>(
  (Object.keys(KINDS) as KindName[]).map((k) => [k, compile(KINDS[k].data)]),
);
const statusValidator = compile<GatewayStatus>(GatewayStatus);
const commandValidator = compile<Command>(Command);
const replyValidator = compile<CommandReply>(CommandReply);
const inventoryValidator = compile<Inventory>(Inventory);

/** Renders ajv errors as `where: what`, e.g. `/data/action: must be equal to one of the allowed values`. */
export function describeErrors(errors: ErrorObject[] | null | undefined, prefix = ''): string {
  if (!errors || errors.length === 0) return 'invalid';
  return errors
    .map((e) => {
      const where = `${prefix}${e.instancePath}` || '/';
      const extra =
        e.keyword === 'additionalProperties'
          ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
          : e.keyword === 'const'
            ? ` ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`
            : '';
      return `${where}: ${e.message ?? e.keyword}${extra}`;
    })
    .join('; ');
}

function parseJson(payload: Buffer | string): Decoded<unknown> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      code: 'PAYLOAD_TOO_LARGE',
      message: `payload is ${size} bytes, the limit is ${MAX_PAYLOAD_BYTES}`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(payload.toString()) };
  } catch (err) {
    return { ok: false, code: 'PAYLOAD_NOT_JSON', message: `payload is not JSON: ${(err as Error).message}` };
  }
}

/** Validates an already-parsed value as an envelope of a known kind. */
export function validateEnvelope(value: unknown): Decoded<Envelope> {
  if (!headerValidator(value)) {
    return { ok: false, code: 'ENVELOPE_INVALID', message: describeErrors(headerValidator.errors) };
  }
  if (!isKnownKind(value.kind)) {
    return { ok: false, code: 'KIND_UNKNOWN', message: `/kind: unknown message kind '${value.kind}'` };
  }
  const check = dataValidators.get(value.kind)!;
  if (!check(value.data)) {
    return { ok: false, code: 'DATA_INVALID', message: describeErrors(check.errors, '/data') };
  }
  return { ok: true, value: value as unknown as Envelope };
}

/** Size limit, JSON, envelope, kind, data: in that order, first failure wins. */
export function decodeEnvelope(payload: Buffer | string): Decoded<Envelope> {
  const parsed = parseJson(payload);
  return parsed.ok ? validateEnvelope(parsed.value) : parsed;
}

function decodeWith<T>(payload: Buffer | string, v: ValidateFunction<T>, code: RejectCode): Decoded<T> {
  const parsed = parseJson(payload);
  if (!parsed.ok) return parsed;
  if (!v(parsed.value)) return { ok: false, code, message: describeErrors(v.errors) };
  return { ok: true, value: parsed.value };
}

export const decodeStatus = (p: Buffer | string) => decodeWith(p, statusValidator, 'STATUS_INVALID');
export const decodeCommand = (p: Buffer | string) => decodeWith(p, commandValidator, 'COMMAND_INVALID');
export const decodeCommandReply = (p: Buffer | string) => decodeWith(p, replyValidator, 'COMMAND_INVALID');
export const decodeInventory = (p: Buffer | string) => decodeWith(p, inventoryValidator, 'INVENTORY_INVALID');

const cameraValidator = compile<CameraReport>(CameraReport);
/** Whether an inventory device entry is a well-formed camera report. */
export const isCameraReport = (v: unknown): v is CameraReport => cameraValidator(v);
