import { execFileSync } from 'node:child_process';
import { describeClientExample } from '../support/client-examples.testing.js';

/** examples/python: the standard library only (no package registry for Python is reachable here). */
describeClientExample({
  language: 'python',
  pushFile: 'examples/python/push_lifecycle.py',
  receiverFile: 'examples/python/webhook_receiver.py',
  push: ['python3', 'examples/python/push_lifecycle.py'],
  receiver: ['python3', 'examples/python/webhook_receiver.py'],
  prepare: () => {
    try {
      execFileSync('python3', ['-c', 'import sys; assert sys.version_info >= (3, 8)'], { stdio: 'pipe' });
    } catch (error) {
      throw new Error(`the Python examples need python3 (3.8 or later): install Debian's python3`, {
        cause: error,
      });
    }
  },
});
