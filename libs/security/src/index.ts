export * from './tokens.js';
export * from './client.js';
export * from './scope.js';
export * from './client-service.js';
export * from './rate-limit.js';
export * from './sql-client-store.js';
export * from './audit.js';
export { AUDIT_COMPONENT, type AuditQuery } from './audit/audit-rules.js';
export * from './audit/sql-audit-log.js';
