import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describeClientExample } from '../support/client-examples.testing.js';
import { REPO_ROOT } from '../support/hub-process.js';

/** The functions the PHP examples take from php-cli's bundled extensions (no curl, no Composer). */
const NEEDED = ['json_encode', 'hash_hmac', 'hash_equals', 'stream_socket_server', 'pcntl_async_signals'];

/** examples/php: Debian's php-cli, which scripts/install-php.sh installs when it is missing. */
describeClientExample({
  language: 'php',
  pushFile: 'examples/php/push_lifecycle.php',
  receiverFile: 'examples/php/webhook_receiver.php',
  push: ['php', 'examples/php/push_lifecycle.php'],
  receiver: ['php', 'examples/php/webhook_receiver.php'],
  prepare: () => {
    execFileSync(join(REPO_ROOT, 'scripts/install-php.sh'), { stdio: 'inherit' });
    const check = `foreach (${JSON.stringify(NEEDED)} as $f) if (!function_exists($f)) echo "$f ";`;
    const missing = execFileSync('php', ['-r', check], { encoding: 'utf8' }).trim();
    if (missing !== '') throw new Error(`php lacks ${missing}: the PHP examples need Debian's php-cli`);
  },
  prepareTimeoutMs: 300_000,
});
