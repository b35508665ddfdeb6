export {
  type AccidentConfig,
  type AccidentDetail,
  AccidentService,
  DEFAULT_ACCIDENT_CONFIG,
} from './service.js';
export { ACCIDENT_MIGRATIONS, SqliteAccidentRepo } from './sqlite-repo.js';
export * from './types.js';
