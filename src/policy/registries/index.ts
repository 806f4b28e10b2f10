export * from './allow-list.js';
export * from './snapshot.js';
export * from './xcheck.js';
