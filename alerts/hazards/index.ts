export { formatTime, HAZARD_CSV_COLUMNS, hazardsCsv } from './csv.js';
export { DEFAULT_HAZARD_CONFIG, FALSE_ALARM_NOTE, type HazardConfig, HazardService } from './service.js';
export { HAZARD_MIGRATIONS, SqliteHazardRepo } from './sqlite-repo.js';
export * from './types.js';
