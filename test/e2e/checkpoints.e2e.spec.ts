import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { CheckpointSigner, generateSigningKey, keyIdOf, type CheckpointExport } from '#lgsp/checkpoints';
import { recordHashOfJson, type ChainRecord } from '#lgsp/event-store';
import { openSqliteChainSource } from '#lgsp/event-store/sqlite';
import { dossierCode, post, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';

const run = promisify(execFile);

/** Events posted: checkpoints at 5 and 10 by count, then one at 12 once it waited 1 s. */
const EVENTS = 12;

describe('signed checkpoints, end to end', () => {
  let hub: HubProcess;
  let dir: string;
  let exportFile: string;
  let exported: CheckpointExport;
  /** A backup copy of the stopped hub's events.db. */
  let copy: string;
  let token: string;

  beforeAll(async () => {
    dir = tempDir('lgsp-checkpoints-e2e-');
    const config = join(dir, 'hub.json');
    writeFileSync(config, JSON.stringify({ checkpoints: { every: 5, everySeconds: 1 } }));
    hub = await startHubProcess({ env: { LGSP_CONFIG: config } });
    token = await createCommuneClient(hub, 'checkpoints-commune');
    // One batch, one append: the time rule cannot sign in the middle of it.
    const batch = Array.from({ length: EVENTS }, () => submitted(dossierCode()));
    expect((await post(hub.url, token, batch, 'application/cloudevents-batch+json')).status).toBe(201);
    const admin = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    exportFile = join(dir, 'export.json');
    await eventually(async () => {
      const r = await runCli(['checkpoints', 'export', '--json', '--out', exportFile], admin);
      expect(r.code).toBe(0);
      const doc = JSON.parse(readFileSync(exportFile, 'utf8')) as CheckpointExport;
      return doc.checkpoints.at(-1)?.position === EVENTS ? doc : undefined;
    }, 15_000).then((doc) => (exported = doc));
    await hub.stop();
    // A backup as `sqlite3 events.db ".backup"` makes one (the WAL's content included).
    copy = join(dir, 'copy.db');
    const live = new DatabaseSync(join(hub.dataDir, 'events.db'), { readOnly: true });
    live.exec(`VACUUM INTO '${copy}'`);
    live.close();
  });

  afterAll(async () => {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (hub) rmSync(hub.dataDir, { recursive: true, force: true });
  });

  /** A fresh copy of the stopped hub's events.db (or of `from`), changed by `change`. */
  function copyChanged(name: string, change: (db: DatabaseSync) => void, from = copy): string {
    const file = join(dir, `${name}.db`);
    copyFileSync(from, file);
    const db = new DatabaseSync(file);
    try {
      change(db);
    } finally {
      db.close();
    }
    return file;
  }

  it('exports the PEM public key and, per checkpoint, the exact signed message and the signature', () => {
    expect(exported).toMatchObject({
      format: 'lgsp-checkpoints/v1',
      algorithm: 'Ed25519',
      keyId: expect.stringMatching(/^ed25519:[0-9a-f]{32}$/),
      publicKey: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----\n/),
    });
    expect(exported.checkpoints.map((c) => c.position)).toEqual([5, 10, 12]);
    for (const c of exported.checkpoints) {
      expect(Buffer.from(c.message, 'base64').toString('utf8')).toBe(
        `lgsp-checkpoint:v1:${c.position}:${c.chainHash}:${c.signedAt}`,
      );
    }
    expect(readFileSync(exportFile, 'utf8')).not.toContain('PRIVATE');
  });

  it('has signatures that OpenSSL verifies with the exported public key (an Ed25519 the project did not write)', async () => {
    const { stdout: version } = await run('openssl', ['version']);
    expect(version).toMatch(/^OpenSSL 3\./);
    const pub = join(dir, 'pub.pem');
    writeFileSync(pub, exported.publicKey);
    for (const c of exported.checkpoints) {
      const msg = join(dir, `msg-${c.position}.bin`);
      const sig = join(dir, `sig-${c.position}.bin`);
      writeFileSync(msg, Buffer.from(c.message, 'base64'));
      writeFileSync(sig, Buffer.from(c.signature, 'base64'));
      const verified = await run('openssl', [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        pub,
        '-rawin',
        '-in',
        msg,
        '-sigfile',
        sig,
      ]);
      expect(verified.stdout).toBe('Signature Verified Successfully\n');
    }
    // The same signature over another hash is refused.
    const other = join(dir, 'msg-other.bin');
    writeFileSync(other, `lgsp-checkpoint:v1:5:${'0'.repeat(64)}:${exported.checkpoints[0]!.signedAt}`);
    const sig = join(dir, 'sig-5.bin');
    await expect(
      run('openssl', [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        pub,
        '-rawin',
        '-in',
        other,
        '-sigfile',
        sig,
      ]),
    ).rejects.toMatchObject({ stdout: expect.stringContaining('Signature Verification Failure') });
  });

  it('lgsp verify checks the store and a backup copy against the checkpoints', async () => {
    const own = await runCli(['verify', '--data-dir', hub.dataDir], {});
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(
      new RegExp(
        `^chain holds: ${EVENTS} events, head hash [0-9a-f]{64}\\ncheckpoints match: 3 \\(kept in the store\\), key ${exported.keyId}, the last at position 12 signed `,
      ),
    );
    const backup = await runCli(['verify', '--file', copy, '--checkpoints', exportFile], {});
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain(`checkpoints match: 3 (from ${exportFile}), key ${exported.keyId}`);
    const json = await runCli(['verify', '--file', copy, '--checkpoints', exportFile, '--json'], {});
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      events: EVENTS,
      checkpoints: { checked: 3, keyId: exported.keyId, last: { position: 12 } },
    });
  });

  it('catches a log changed and its chain recomputed, even with the store re-signed under a new key (exit 7)', async () => {
    // Position 3's data changed, and every hash from there on recomputed: the chain itself holds.
    const records: ChainRecord[] = [];
    const source = openSqliteChainSource(copy);
    try {
      for await (const r of source.records()) records.push(r);
    } finally {
      await source.close();
    }
    const rewritten = copyChanged('rewritten', (db) => {
      let prev = records[1]!.hash;
      const update = db.prepare('UPDATE events SET data = ?, hash = ?, prev_hash = ? WHERE position = ?');
      for (const r of records.slice(2)) {
        const dataJson =
          r.position === 3 ? r.dataJson.replace('"channel":"in-person"', '"channel":"online"') : r.dataJson;
        if (r.position === 3) expect(dataJson).not.toBe(r.dataJson);
        const hash = recordHashOfJson(prev, r, dataJson, r.extensionsJson);
        update.run(dataJson, hash, prev, r.position);
        prev = hash;
      }
    });
    // The copy's own checkpoints, signed by the hub, catch it already.
    const own = await runCli(['verify', '--file', rewritten, '--json'], {});
    expect(own.code).toBe(7);
    expect(JSON.parse(own.stdout)).toMatchObject({
      ok: false,
      events: EVENTS,
      checkpoints: { from: 'kept in the store', checked: 0, mismatch: { position: 5, kind: 'hash' } },
    });

    const anchored = await runCli(['verify', '--file', rewritten, '--checkpoints', exportFile], {});
    expect(anchored.code).toBe(7);
    expect(anchored.stdout).toMatch(new RegExp(`^chain holds: ${EVENTS} events, head hash [0-9a-f]{64}\\n`));
    expect(anchored.stdout).toContain(
      `checkpoint at position 5 (signed ${exported.checkpoints[0]!.signedAt}) does not match: ` +
        `the record stored there has chain hash `,
    );
    expect(anchored.stdout).toContain(`not the signed ${exported.checkpoints[0]!.chainHash}\n0 checkpoints`);

    // Who rewrote the log may also sign its checkpoints again under a key of their own: the store's
    // check then passes, the checkpoints exported earlier still do not.
    const resigned = copyChanged(
      'resigned',
      (db) => {
        db.exec('DELETE FROM checkpoint_keys; DELETE FROM signed_checkpoints');
        const pair = generateSigningKey();
        db.prepare('INSERT INTO checkpoint_keys VALUES (1, ?, ?, ?, ?)').run(
          pair.keyId,
          pair.publicKey,
          pair.privateKey,
          new Date().toISOString(),
        );
        const signer = new CheckpointSigner(pair);
        const head = db.prepare('SELECT hash FROM events WHERE position = 5').get() as { hash: string };
        const c = signer.sign(5, head.hash, new Date().toISOString());
        db.prepare('INSERT INTO signed_checkpoints VALUES (?, ?, ?, ?, ?, ?)').run(
          c.position,
          c.chainHash,
          c.signedAt,
          c.keyId,
          c.message,
          c.signature,
        );
      },
      rewritten,
    );
    expect((await runCli(['verify', '--file', resigned], {})).code).toBe(0);
    expect((await runCli(['verify', '--file', resigned, '--checkpoints', exportFile], {})).code).toBe(7);
  });

  it('catches a truncated log and a forged checkpoint file (exit 7)', async () => {
    const truncated = copyChanged('truncated', (db) => db.exec('DELETE FROM events WHERE position > 7'));
    const short = await runCli(['verify', '--file', truncated, '--checkpoints', exportFile], {});
    expect(short.code).toBe(7);
    expect(short.stdout).toContain('checkpoint at position 10 (signed ');
    expect(short.stdout).toContain('does not match: the log ends at position 7\n1 checkpoints');

    const forged = join(dir, 'forged.json');
    const [first, ...rest] = exported.checkpoints;
    writeFileSync(
      forged,
      JSON.stringify({ ...exported, checkpoints: [{ ...first!, chainHash: '0'.repeat(64) }, ...rest] }),
    );
    const refused = await runCli(['verify', '--file', copy, '--checkpoints', forged, '--json'], {});
    expect(refused.code).toBe(7);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      ok: false,
      checkpoints: { checked: 0, mismatch: { position: 5, kind: 'signature' } },
    });
    const notExport = join(dir, 'not-export.json');
    writeFileSync(notExport, '{"format": "x"}');
    const bad = await runCli(['verify', '--file', copy, '--checkpoints', notExport], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--checkpoints ${notExport} is not a checkpoint export: /format`);
  });

  it('signs with a key file made by OpenSSL after a restart: the export holds both keys, and both verify', async () => {
    const keyFile = join(dir, 'checkpoint-key.pem');
    await run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
    const filePub = join(dir, 'file-pub.pem');
    await run('openssl', ['pkey', '-in', keyFile, '-pubout', '-out', filePub]);
    const again = await startHubProcess({
      dataDir: hub.dataDir,
      adminToken: hub.adminToken,
      env: { LGSP_CONFIG: join(dir, 'hub.json'), LGSP_CHECKPOINTS_KEY_FILE: keyFile },
    });
    const later = join(dir, 'export-later.json');
    try {
      const batch = Array.from({ length: 5 }, () => submitted(dossierCode()));
      expect((await post(again.url, token, batch, 'application/cloudevents-batch+json')).status).toBe(201);
      const admin = { LGSP_URL: again.url, LGSP_TOKEN: again.adminToken };
      const doc = await eventually(async () => {
        expect((await runCli(['checkpoints', 'export', '--json', '--out', later], admin)).code).toBe(0);
        const d = JSON.parse(readFileSync(later, 'utf8')) as CheckpointExport;
        return d.checkpoints.at(-1)?.position === EVENTS + 5 ? d : undefined;
      }, 15_000);
      const fileKeyId = keyIdOf(readFileSync(filePub, 'utf8'));
      expect(doc).toMatchObject({
        keyId: fileKeyId,
        keys: [
          { keyId: exported.keyId, publicKey: exported.publicKey },
          { keyId: fileKeyId, publicKey: doc.publicKey },
        ],
      });
      expect(doc.checkpoints.map((c) => [c.position, c.keyId])).toEqual([
        [5, exported.keyId],
        [10, exported.keyId],
        [12, exported.keyId],
        [17, fileKeyId],
      ]);
      const c17 = doc.checkpoints[3]!;
      writeFileSync(join(dir, 'msg-17.bin'), Buffer.from(c17.message, 'base64'));
      writeFileSync(join(dir, 'sig-17.bin'), Buffer.from(c17.signature, 'base64'));
      const args = ['-pubin', '-inkey', filePub, '-rawin', '-in', join(dir, 'msg-17.bin')];
      const verified = await run('openssl', [
        'pkeyutl',
        '-verify',
        ...args,
        '-sigfile',
        join(dir, 'sig-17.bin'),
      ]);
      expect(verified.stdout).toBe('Signature Verified Successfully\n');
      expect(again.output()).not.toContain('PRIVATE KEY');
    } finally {
      await again.stop();
    }
    const own = await runCli(['verify', '--data-dir', hub.dataDir], {});
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('checkpoints match: 4 (kept in the store)');
    const anchored = await runCli(['verify', '--data-dir', hub.dataDir, '--checkpoints', later], {});
    expect(anchored.code).toBe(0);
    expect(anchored.stdout).toContain(`checkpoints match: 4 (from ${later})`);
  });
});
