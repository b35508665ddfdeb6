export * from '../../lib/testkit/procs.js';
