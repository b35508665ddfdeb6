export * from '../../lib/testkit/ws.js';
