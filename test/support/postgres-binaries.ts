// Where the PostgreSQL server binaries are, and how to run them: as the \`postgres\` OS user when the
// tests run as root (initdb and postgres refuse root), without the caller's PG* variables.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { message } from './postgres-processes.js';

/** The OS user initdb and postgres run as when the tests run as root. */
export const OS_USER = 'postgres';
const SERVER_BINARIES = ['initdb', 'postgres'] as const;

export interface PostgresBinaries {
  binDir: string;
  initdb: string;
  postgres: string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The folders that may hold the server binaries, most likely first. */
function binDirCandidates(): string[] {
  const dirs: string[] = [];
  const add = (dir: string | undefined) => {
    if (dir && !dirs.includes(dir)) dirs.push(dir);
  };
  add(process.env.POSTGRES_BIN_DIR);
  try {
    const out = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    add(out.trim());
  } catch {
    // no pg_config: PATH and the usual install folders
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of SERVER_BINARIES) {
      const file = join(dir, name);
      if (dir !== '' && isExecutable(file)) add(dirname(realpathSync(file))); // a symlink names the real bin dir
    }
  }
  const versioned = (parent: string, pattern: RegExp, bin: (entry: string) => string) => {
    let entries: string[];
    try {
      entries = readdirSync(parent).filter((entry) => pattern.test(entry));
    } catch {
      return;
    }
    const version = (entry: string) => Number(/(\d+(?:\.\d+)?)/.exec(entry)?.[1] ?? 0);
    entries.sort((a, b) => version(b) - version(a)); // highest version first
    for (const entry of entries) add(bin(entry));
  };
  versioned('/usr/lib/postgresql', /^\d+(\.\d+)?$/, (entry) => `/usr/lib/postgresql/${entry}/bin`);
  versioned('/usr', /^pgsql-\d+(\.\d+)?$/, (entry) => `/usr/${entry}/bin`);
  return dirs;
}

/** initdb and postgres: POSTGRES_BIN_DIR, `pg_config --bindir`, PATH, then /usr/lib/postgresql/<highest>/bin. */
export function findPostgresBinaries(): PostgresBinaries {
  const dirs = binDirCandidates();
  const partial: string[] = [];
  for (const binDir of dirs) {
    const present = SERVER_BINARIES.filter((name) => isExecutable(join(binDir, name)));
    if (present.length === SERVER_BINARIES.length) {
      return { binDir, initdb: join(binDir, 'initdb'), postgres: join(binDir, 'postgres') };
    }
    if (present.length > 0) {
      const missing = SERVER_BINARIES.filter((name) => !present.includes(name));
      partial.push(`${binDir} has ${present.join(', ')} but no ${missing.join(', ')}`);
    }
  }
  const where = dirs.length > 0 ? `looked in ${dirs.join(', ')}` : 'no pg_config, none on PATH';
  throw new Error(
    `PostgreSQL server binaries not found: no folder with both initdb and postgres (${where}` +
      (partial.length > 0 ? `; ${partial.join('; ')}` : '') +
      '). This test needs the PostgreSQL server binaries (initdb, postgres; e.g. the Debian package ' +
      'postgresql-15) to run a cluster of its own; set POSTGRES_BIN_DIR to their folder if they are elsewhere.',
  );
}

export interface OsUser {
  uid: number;
  gid: number;
}

/** Whom to run initdb and postgres as: the `postgres` OS user when this process is root (they refuse root). */
export function serverUser(): OsUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  try {
    const id = (flag: string) =>
      Number(
        execFileSync('id', [flag, OS_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(),
      );
    const user = { uid: id('-u'), gid: id('-g') };
    if (Number.isInteger(user.uid) && Number.isInteger(user.gid) && user.uid !== 0) return user;
    throw new Error(`id says uid ${user.uid}, gid ${user.gid}`);
  } catch (error) {
    throw new Error(
      `this test runs as root, and initdb and postgres refuse to run as root: it needs an OS user ` +
        `"${OS_USER}" (not root) to run them as, and there is none (${message(error).trim()})`,
      { cause: error },
    );
  }
}

/** The environment of initdb and postgres: no PG* variables, and C messages (the log is parsed). */
export function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  env.LC_ALL = 'C';
  return env;
}

export function runToEnd(
  file: string,
  args: string[],
  options: { cwd: string; user: OsUser | undefined },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: serverEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.user ?? {}),
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}
