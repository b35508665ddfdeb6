export * from '../../lib/testkit/site.js';
