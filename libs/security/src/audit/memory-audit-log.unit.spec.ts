import { describeAuditLogContract } from '../contract/audit-log-contract.js';
import { InMemoryAuditLog } from './memory-audit-log.js';

describeAuditLogContract('in memory', async () => {
  const log = new InMemoryAuditLog();
  return { log, another: async () => log, close: async () => undefined };
});
