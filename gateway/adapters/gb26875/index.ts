/** GB/T 26875.3-2011 receiver for user information transmission devices. */
export * from './events.js';
export * from './flags.js';
export * from './frame.js';
export * from './objects-control.js';
export * from './payload.js';
export * from './post-check.js';
export * from './receiver.js';
export * from './text.js';
export * from './time.js';
