/** Phase 6: the control plane's audit logging, encryption at rest and exposure (pure evaluation and generators). */
export * from './audit-policy.js';
export * from './encryption.js';
export * from './evaluate.js';
export * from './findings.js';
export * from './flags.js';
export * from './shipping.js';
