// Kafka for the integration and end-to-end tests, without Docker: deploy/kafka/kafka.sh runs a
// single-node KRaft broker from jars that Maven fetches. This file uses only erasable TypeScript and
// Node built-ins, so the jest global setup (plain .mjs) imports it natively, as well as the tests.
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KafkaBroker {
  /** Bootstrap addresses, `host:port`. */
  brokers: string[];
  port: number;
  /** True when this process started the broker (and so `stop()` stops it). */
  startedHere: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The folder holding kafka.sh, found from test/support or from dist/test/support. */
export const KAFKA_DEPLOY_DIR = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'deploy/kafka/kafka.sh'))) return join(dir, 'deploy/kafka');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('deploy/kafka/kafka.sh not found above test/support');
    dir = parent;
  }
})();
const KAFKA_SH = join(KAFKA_DEPLOY_DIR, 'kafka.sh');
const DEFAULT_PORT = 19092;
const HOST = '127.0.0.1';

function note(message: string): void {
  process.stderr.write(`[kafka] ${message}\n`);
}

function parseAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (!match) throw new Error(`not a host:port address: ${address}`);
  return { host: match[1] || 'localhost', port: Number(match[2]) };
}

/** Resolves true when a TCP connection to host:port succeeds within timeoutMs, else false. */
export async function reachable(address: string, timeoutMs = 1000): Promise<boolean> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Sends one Kafka request (request header v1: `apiKey`, `apiVersion`, a correlation id, the client id,
 * then `body`) and resolves with the response body, after its correlation id.
 */
function kafkaRequest(
  address: string,
  apiKey: number,
  apiVersion: number,
  body: Buffer,
  timeoutMs: number,
): Promise<Buffer> {
  const { host, port } = parseAddress(address);
  const clientId = Buffer.from('lgsp-test');
  const header = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  let o = header.writeInt32BE(header.length - 4 + body.length, 0);
  o = header.writeInt16BE(apiKey, o);
  o = header.writeInt16BE(apiVersion, o);
  o = header.writeInt32BE(7, o); // correlation_id
  o = header.writeInt16BE(clientId.length, o);
  clientId.copy(header, o);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let received = Buffer.alloc(0);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`no answer from ${address} to API ${apiKey} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(Buffer.concat([header, body])));
    socket.once('error', fail);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      clearTimeout(timer);
      socket.destroy();
      if (received.readInt32BE(4) !== 7) return reject(new Error(`API ${apiKey}: wrong correlation id`));
      resolve(received.subarray(8, 4 + received.readInt32BE(0)));
    });
  });
}

/**
 * Sends a Kafka ApiVersions (v0) request and returns the API keys the broker serves with their
 * version ranges. Proves that a Kafka broker (not just any listener) answers at the address.
 */
export async function apiVersions(
  address: string,
  timeoutMs = 5000,
): Promise<Map<number, { min: number; max: number }>> {
  const response = await kafkaRequest(address, 18, 0, Buffer.alloc(0), timeoutMs);
  const errorCode = response.readInt16BE(0);
  if (errorCode !== 0) throw new Error(`ApiVersions: error code ${errorCode}`);
  const count = response.readInt32BE(2);
  const versions = new Map<number, { min: number; max: number }>();
  for (let i = 0, at = 6; i < count; i++, at += 6) {
    versions.set(response.readInt16BE(at), {
      min: response.readInt16BE(at + 2),
      max: response.readInt16BE(at + 4),
    });
  }
  return versions;
}

/** One partition as a broker's metadata has it. */
export interface PartitionMetadata {
  topic: string;
  partition: number;
  /** Broker id of the leader; -1 when the partition has none (offline). */
  leader: number;
  replicas: number[];
  isr: number[];
  /** Kafka's error code for the partition: 0, or 5 (LEADER_NOT_AVAILABLE) when offline. */
  error: number;
}

/**
 * Every partition of every topic, from a Metadata (v4) request to one broker. Unlike kafkajs, which
 * refuses the whole answer when a partition has no leader, this reports such a partition as it is.
 */
export async function clusterMetadata(address: string, timeoutMs = 5000): Promise<PartitionMetadata[]> {
  const body = Buffer.alloc(5);
  body.writeInt32BE(-1, 0); // topics: null, every topic
  body.writeInt8(0, 4); // allow_auto_topic_creation
  const r = await kafkaRequest(address, 3, 4, body, timeoutMs);
  let at = 4; // throttle_time_ms
  const int16 = () => ((at += 2), r.readInt16BE(at - 2));
  const int32 = () => ((at += 4), r.readInt32BE(at - 4));
  const string = (): string => {
    const length = int16();
    if (length < 0) return '';
    at += length;
    return r.toString('utf8', at - length, at);
  };
  const array = <T>(item: () => T): T[] => Array.from({ length: Math.max(0, int32()) }, item);
  array(() => [int32(), string(), int32(), string()]); // brokers: node_id, host, port, rack
  string(); // cluster_id
  int32(); // controller_id
  const partitions: PartitionMetadata[] = [];
  for (const topic of array(() => {
    const error = int16();
    const name = string();
    at += 1; // is_internal
    const parts = array(() => ({
      error: int16(),
      partition: int32(),
      leader: int32(),
      replicas: array(int32).sort((x, y) => x - y),
      isr: array(int32).sort((x, y) => x - y),
    }));
    return { error, name, parts };
  })) {
    for (const p of topic.parts) partitions.push({ topic: topic.name, ...p });
  }
  return partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kafka.sh; its progress lines (stderr) go to this process's stderr as they come. */
function runScript(args: string[], env: Record<string, string>, input?: string): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [KAFKA_SH, ...args], {
      env: { ...process.env, ...env },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      if (args[0] !== 'run-class') process.stderr.write(text);
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the script may exit before reading its input
    child.stdin.end(input ?? '');
  });
}

/** The reason kafka.sh gave for failing (its `error:` lines), or the end of its output. */
function failureReason(result: ScriptResult): string {
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('kafka.sh: error:'));
  const lines = errors.length > 0 ? errors : result.stderr.trim().split('\n').slice(-10);
  return lines.map((line) => line.replace(/^kafka\.sh: error: /, '')).join('\n');
}

/** What is missing for kafka.sh to run, when something is; undefined when it can try. */
function missingPrerequisite(secured = false): string | undefined {
  const onPath = (command: string) =>
    (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, command)));
  if (secured && !onPath('openssl')) {
    return 'openssl is not installed: deploy/kafka/certs.sh needs it to make the secured listeners’ certificates';
  }
  const javaHome = process.env.JAVA_HOME;
  if (!onPath('java') && !(javaHome && existsSync(join(javaHome, 'bin/java')))) {
    return 'java (a Java 17+ runtime on PATH or in JAVA_HOME) is not installed';
  }
  if (!existsSync(join(KAFKA_DEPLOY_DIR, 'target/lib/.resolved')) && !onPath('mvn')) {
    return `mvn is not installed and the Kafka jars are not in ${join(KAFKA_DEPLOY_DIR, 'target/lib')} (kafka.sh resolve fetches them with Maven)`;
  }
  return undefined;
}

interface Instance {
  port: number;
  controllerPort: number;
  dataDir?: string;
  /** Start from empty topics when the broker is not running yet (KAFKA_RESET=1). */
  reset?: boolean;
  /** The secured listeners' ports (KAFKA_SECURED=1). */
  secured?: { saslSslPort: number; sslPort: number };
  /** A node of a cluster (KAFKA_NODE_ID, KAFKA_QUORUM_VOTERS, KAFKA_REPLICATION, KAFKA_MIN_INSYNC). */
  cluster?: { nodeId: number; voters: string; replication: number; minInsync: number };
  /** KAFKA_HEAP_OPTS; kafka.sh's default when absent. */
  heap?: string;
  /** KAFKA_STOP_TIMEOUT, seconds; kafka.sh's default when absent. */
  stopTimeoutS?: number;
}

function scriptEnv(instance: Instance): Record<string, string> {
  const env: Record<string, string> = {
    KAFKA_HOST: HOST,
    KAFKA_PORT: String(instance.port),
    KAFKA_CONTROLLER_PORT: String(instance.controllerPort),
  };
  if (instance.dataDir) env.KAFKA_DATA_DIR = instance.dataDir;
  env.KAFKA_SECURED = instance.secured ? '1' : '0';
  if (instance.secured) {
    env.KAFKA_SASL_SSL_PORT = String(instance.secured.saslSslPort);
    env.KAFKA_SSL_PORT = String(instance.secured.sslPort);
  }
  env.KAFKA_RESET = instance.reset ? '1' : '0'; // never inherited: a restart must keep the topics
  // Never inherited either: a single broker must not join somebody's cluster.
  env.KAFKA_NODE_ID = String(instance.cluster?.nodeId ?? 1);
  env.KAFKA_QUORUM_VOTERS = instance.cluster?.voters ?? '';
  env.KAFKA_REPLICATION = String(instance.cluster?.replication ?? 1);
  env.KAFKA_MIN_INSYNC = String(instance.cluster?.minInsync ?? 1);
  if (instance.heap) env.KAFKA_HEAP_OPTS = instance.heap;
  if (instance.stopTimeoutS !== undefined) env.KAFKA_STOP_TIMEOUT = String(instance.stopTimeoutS);
  return env;
}

class ScriptBroker implements KafkaBroker {
  readonly brokers: string[];
  readonly port: number;
  startedHere = false;
  readonly instance: Instance;
  private readonly label: string;

  constructor(instance: Instance, label: string) {
    this.instance = instance;
    this.label = label;
    this.port = instance.port;
    this.brokers = [`${HOST}:${instance.port}`];
  }

  async start(): Promise<void> {
    const missing = missingPrerequisite(this.instance.secured !== undefined);
    if (missing) throw new Error(`cannot start Kafka (${this.label}): ${missing}`);
    const first = !existsSync(join(KAFKA_DEPLOY_DIR, 'target/lib/.resolved'));
    note(
      `starting Kafka (${this.label}) on ${this.brokers[0]} from deploy/kafka` +
        (first ? ' (first run downloads the jars from Maven Central)...' : '...'),
    );
    const before = await runScript(['status'], scriptEnv(this.instance));
    const result = await runScript(['start'], scriptEnv(this.instance));
    this.instance.reset = false; // a restart keeps what the broker had
    if (result.code !== 0) {
      throw new Error(
        `cannot start Kafka (${this.label}) with deploy/kafka/kafka.sh: ${failureReason(result)}`,
      );
    }
    // Started here unless kafka.sh found it already running (left over from an earlier run).
    if (before.code !== 0) this.startedHere = true;
  }

  async stop(): Promise<void> {
    if (!this.startedHere) {
      note(`not stopping Kafka at ${this.brokers.join(',')}: it was not started here`);
      return;
    }
    const result = await runScript(['stop'], scriptEnv(this.instance));
    if (result.code !== 0) throw new Error(`cannot stop Kafka (${this.label}): ${failureReason(result)}`);
  }
}

/** A broker somebody else runs (KAFKA_BROKERS): never started or stopped from here. */
class ExternalBroker implements KafkaBroker {
  readonly startedHere = false;
  readonly brokers: string[];
  readonly port: number;

  constructor(brokers: string[]) {
    this.brokers = brokers;
    this.port = parseAddress(brokers[0]!).port;
  }

  async start(): Promise<void> {
    if (!(await reachable(this.brokers[0]!, 2000))) {
      throw new Error(
        `Kafka at ${this.brokers.join(',')} (KAFKA_BROKERS) is not reachable, and was not started here`,
      );
    }
  }

  async stop(): Promise<void> {
    note(`not stopping Kafka at ${this.brokers.join(',')}: it was not started here (KAFKA_BROKERS)`);
  }
}

let shared: Promise<KafkaBroker> | undefined;

/** A broker for the whole run: the one at KAFKA_BROKERS when reachable, otherwise one started with deploy/kafka/kafka.sh (shared, default port). */
export async function sharedKafka(): Promise<KafkaBroker> {
  shared ??= (async () => {
    const configured = (process.env.KAFKA_BROKERS ?? '')
      .split(',')
      .map((address) => address.trim())
      .filter((address) => address !== '');
    if (configured.length > 0) {
      if (await reachable(configured[0]!, 2000)) return new ExternalBroker(configured);
      note(`KAFKA_BROKERS=${configured.join(',')} is not reachable: starting one with deploy/kafka/kafka.sh`);
    }
    let port = Number(process.env.KAFKA_PORT ?? DEFAULT_PORT);
    let controllerPort = Number(process.env.KAFKA_CONTROLLER_PORT ?? port + 1);
    // A broker left running on the port (an interrupted run, a developer's kafka:start) is used as it
    // is, never stopped from here; anything else on the port makes this run pick free ports.
    if (await reachable(`127.0.0.1:${port}`, 1000)) {
      const isKafka = await apiVersions(`127.0.0.1:${port}`, 3000).then(
        (apis) => apis.size > 0,
        () => false,
      );
      if (isKafka) {
        note(`using the Kafka broker already running on 127.0.0.1:${port} (it is not stopped afterwards)`);
        return new ExternalBroker([`127.0.0.1:${port}`]);
      }
      port = await freePort();
      controllerPort = await freePort();
      note(
        `127.0.0.1:${process.env.KAFKA_PORT ?? DEFAULT_PORT} is taken by something that is not Kafka: using port ${port}`,
      );
    } else if (await reachable(`127.0.0.1:${controllerPort}`, 1000)) {
      controllerPort = await freePort();
    }
    // Each run starts with no topics, so that data dirs do not pile up partitions run after run.
    const broker = new ScriptBroker({ port, controllerPort, reset: true }, 'shared');
    try {
      await broker.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(
        `${message}\nThe integration and end-to-end tests need Kafka: set KAFKA_BROKERS to a reachable broker, ` +
          'or install Java 17+ and Maven so that deploy/kafka/kafka.sh can run one' +
          (process.env.CI === 'true' ? ' (CI=true: the tests do not skip).' : '.'),
        { cause: error },
      );
    }
    return broker;
  })();
  try {
    return await shared;
  } catch (error) {
    shared = undefined; // a later call may try again
    throw error;
  }
}

/** A TCP port free on 127.0.0.1 now (`preferred` when it is), for a server a test starts. */
export async function freePort(preferred?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (preferred !== undefined && error.code === 'EADDRINUSE') resolve(freePort());
      else reject(error);
    });
    server.listen({ host: HOST, port: preferred ?? 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const DEDICATED_ROOT = join(KAFKA_DEPLOY_DIR, 'target/dedicated');

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return 0;
  }
}

/**
 * Removes the data dirs of dedicated brokers whose test process is gone (or is `finishedOwner`, a
 * process whose tests are over), stopping a broker still running in one (a test that crashed or
 * never called stop()).
 */
export async function sweepDedicatedKafka(options: { finishedOwner?: number } = {}): Promise<void> {
  if (!existsSync(DEDICATED_ROOT)) return;
  for (const name of readdirSync(DEDICATED_ROOT)) {
    const dataDir = join(DEDICATED_ROOT, name);
    const owner = readPid(join(dataDir, 'owner.pid'));
    if (owner === 0 && Date.now() - statSync(dataDir).mtimeMs < 10 * 60_000) continue; // being created
    if (owner !== options.finishedOwner && alive(owner)) continue;
    if (alive(readPid(join(dataDir, 'kafka.pid')))) {
      note(`stopping an orphaned dedicated Kafka (data dir ${dataDir})`);
      await runScript(['stop'], { KAFKA_DATA_DIR: dataDir });
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A dedicated broker on its own ports and data dir, that a test may stop and restart (broker outage tests). */
export async function dedicatedKafka(options: { port?: number } = {}): Promise<KafkaBroker> {
  await sweepDedicatedKafka();
  const port = options.port ?? (await freePort());
  const controllerPort = await freePort(port + 1);
  // Under deploy/kafka/target (ignored by git); the next sweep removes it once this process is gone.
  mkdirSync(DEDICATED_ROOT, { recursive: true });
  const dataDir = mkdtempSync(join(DEDICATED_ROOT, `${port}-`));
  writeFileSync(join(dataDir, 'owner.pid'), `${process.pid}\n`);
  const broker = new ScriptBroker({ port, controllerPort, dataDir }, `dedicated, data dir ${dataDir}`);
  await broker.start();
  return broker;
}

/** A broker with the secured listeners too (deploy/kafka/kafka.sh with KAFKA_SECURED=1). */
export interface SecuredKafkaBroker extends KafkaBroker {
  /** SASL_SSL listener: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN, after TLS. */
  saslSsl: string[];
  /** SSL listener that requires a client certificate (mutual TLS). */
  ssl: string[];
  /** deploy/kafka/certs.sh's files: `ca.crt`, `client.crt`, `client.key`, `untrusted-ca.crt`, `sasl.password`. */
  certsDir: string;
  /** The SASL user the broker knows (its password is in `certsDir/sasl.password`). */
  username: string;
}

/**
 * A dedicated broker (see {@link dedicatedKafka}) that also opens the secured listeners, on
 * KAFKA_SASL_SSL_PORT and KAFKA_SSL_PORT when set, else on free ports. The PLAINTEXT listener
 * (`brokers`) stays open for setting up and reading back topics.
 */
export async function securedKafka(): Promise<SecuredKafkaBroker> {
  await sweepDedicatedKafka();
  const port = await freePort();
  const controllerPort = await freePort(port + 1);
  const fromEnv = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const saslSslPort = fromEnv('KAFKA_SASL_SSL_PORT') ?? (await freePort());
  const sslPort = fromEnv('KAFKA_SSL_PORT') ?? (await freePort());
  mkdirSync(DEDICATED_ROOT, { recursive: true });
  const dataDir = mkdtempSync(join(DEDICATED_ROOT, `${port}-`));
  writeFileSync(join(dataDir, 'owner.pid'), `${process.pid}\n`);
  const broker = new ScriptBroker(
    { port, controllerPort, dataDir, secured: { saslSslPort, sslPort } },
    `secured, data dir ${dataDir}`,
  );
  await broker.start();
  const certsDir = process.env.KAFKA_CERTS_DIR ?? join(KAFKA_DEPLOY_DIR, 'target/certs');
  return Object.assign(broker, {
    saslSsl: [`${HOST}:${saslSslPort}`],
    ssl: [`${HOST}:${sslPort}`],
    certsDir,
    username: readFileSync(join(certsDir, 'sasl.username'), 'utf8').trim(),
  });
}

/**
 * Produces lines (one message each, value only) with Kafka's own console producer. For tests that
 * need real messages while the project has no JavaScript Kafka client; slow (a JVM per call, ~1 s).
 */
export async function consoleProduce(broker: KafkaBroker, topic: string, values: string[]): Promise<void> {
  const result = await runScript(
    [
      'run-class',
      'org.apache.kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      broker.brokers.join(','),
      '--topic',
      topic,
    ],
    {},
    values.map((value) => `${value}\n`).join(''),
  );
  if (result.code !== 0) throw new Error(`console producer failed: ${result.stderr.trim()}`);
}

/** Reads `count` message values of a topic from the beginning with Kafka's console consumer. */
export async function consoleConsume(
  broker: KafkaBroker,
  topic: string,
  count: number,
  timeoutMs = 20000,
): Promise<string[]> {
  const result = await runScript(
    [
      'run-class',
      'org.apache.kafka.tools.consumer.ConsoleConsumer',
      '--bootstrap-server',
      broker.brokers.join(','),
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      String(count),
      '--timeout-ms',
      String(timeoutMs),
    ],
    {},
  );
  const values = result.stdout.split('\n').filter((line) => line !== '');
  if (values.length < count) {
    throw new Error(`console consumer got ${values.length} of ${count} messages: ${result.stderr.trim()}`);
  }
  return values;
}

/** One node (broker and controller) of a {@link KafkaCluster}. */
export interface KafkaClusterNode {
  /** Its `node.id`, the broker id Kafka's metadata names leaders by. */
  id: number;
  /** Its client (PLAINTEXT) address, `host:port`. */
  address: string;
  dataDir: string;
  /** The JVM's pid while it runs (kafka.sh's pid file), else undefined. */
  pid(): number | undefined;
}

/** Several KRaft nodes started by {@link kafkaCluster}: each a broker and a controller, every one a voter. */
export interface KafkaCluster {
  /** The client addresses of every node (the bootstrap list). */
  brokers: string[];
  nodes: KafkaClusterNode[];
  replication: number;
  minInsync: number;
  /** SIGKILL of a node's JVM, as a machine that dies (no controlled shutdown); resolves once it is gone. */
  kill(nodeId: number): Promise<void>;
  /** Stops every node still running, then removes the data dirs. */
  stop(): Promise<void>;
}

export interface KafkaClusterOptions {
  /** @defaultValue 3 */
  nodes?: number;
  /** Replicas of every topic (default.replication.factor). @defaultValue the number of nodes */
  replication?: number;
  /** min.insync.replicas. @defaultValue replication − 1 (one node may be lost), at least 1 */
  minInsync?: number;
  /**
   * First client port: node i listens on `basePort + 2(i − 1)`, its controller on the next port (or
   * free ports, when those are taken). @defaultValue KAFKA_CLUSTER_PORT, else 19892
   */
  basePort?: number;
  /** Each JVM's heap. @defaultValue "-Xms64m -Xmx256m" */
  heap?: string;
}

/**
 * A KRaft cluster started with deploy/kafka/kafka.sh, one JVM per node, each a broker and a controller
 * of a static quorum of all nodes, on their own ports and data dirs (under deploy/kafka/target/dedicated,
 * removed by stop() or by the next sweep once this process is gone). The nodes start together: none
 * is ready before a majority of the quorum runs.
 * @throws Error naming what is missing (Java, Maven) or the node that did not start.
 */
export async function kafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const count = options.nodes ?? 3;
  const replication = options.replication ?? count;
  const minInsync = options.minInsync ?? Math.max(1, replication - 1);
  const missing = missingPrerequisite();
  if (missing) throw new Error(`cannot start a ${count}-node Kafka cluster: ${missing}`);
  await sweepDedicatedKafka();
  const base = options.basePort ?? Number(process.env.KAFKA_CLUSTER_PORT ?? 19892);
  const ports: { port: number; controllerPort: number }[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort(base + 2 * i);
    const controllerPort = await freePort(port + 1);
    ports.push({ port, controllerPort });
  }
  const voters = ports.map((p, i) => `${i + 1}@${HOST}:${p.controllerPort}`).join(',');
  mkdirSync(DEDICATED_ROOT, { recursive: true });
  const members = ports.map(({ port, controllerPort }, i) => {
    const dataDir = mkdtempSync(join(DEDICATED_ROOT, `${port}-node${i + 1}-`));
    writeFileSync(join(dataDir, 'owner.pid'), `${process.pid}\n`);
    const broker = new ScriptBroker(
      {
        port,
        controllerPort,
        dataDir,
        cluster: { nodeId: i + 1, voters, replication, minInsync },
        heap: options.heap ?? '-Xms64m -Xmx256m',
        // Without a quorum (two nodes of three gone) a controlled shutdown cannot finish.
        stopTimeoutS: 5,
      },
      `cluster node ${i + 1} of ${count}, data dir ${dataDir}`,
    );
    return { id: i + 1, dataDir, broker };
  });
  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map((m) => runScript(['stop'], scriptEnv(m.broker.instance))));
    for (const m of members) rmSync(m.dataDir, { recursive: true, force: true });
  };
  const started = await Promise.allSettled(members.map((m) => m.broker.start()));
  const failed = started.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length > 0) {
    await stopAll();
    const reason = failed[0] instanceof Error ? failed[0].message : String(failed[0]);
    throw new Error(`the ${count}-node Kafka cluster did not start: ${reason}`, { cause: failed[0] });
  }
  const pidOf = (dataDir: string): number | undefined => {
    const pid = readPid(join(dataDir, 'kafka.pid'));
    return alive(pid) ? pid : undefined;
  };
  note(`Kafka cluster of ${count} nodes ready: ${members.map((m) => m.broker.brokers[0]).join(',')}`);
  return {
    brokers: members.map((m) => m.broker.brokers[0]!),
    nodes: members.map((m) => ({
      id: m.id,
      address: m.broker.brokers[0]!,
      dataDir: m.dataDir,
      pid: () => pidOf(m.dataDir),
    })),
    replication,
    minInsync,
    async kill(nodeId) {
      const member = members.find((m) => m.id === nodeId);
      if (!member) throw new Error(`no node ${nodeId} in the cluster`);
      const pid = pidOf(member.dataDir);
      if (pid === undefined) throw new Error(`node ${nodeId} is not running`);
      process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (alive(pid)) throw new Error(`node ${nodeId} (pid ${pid}) still runs 10 s after SIGKILL`);
    },
    stop: stopAll,
  };
}

/** A record as Kafka's console consumer printed it (its value left out). */
export interface ConsoleRecord {
  partition: number;
  offset: number;
  key: string;
  headers: Record<string, string>;
}

/**
 * Reads every record of the topics matching `include` (a Java regular expression) from the beginning,
 * with Kafka's own console consumer, until none came for `idleMs`. Java's consumer reads the partitions
 * that have a leader and waits for the others, where kafkajs refuses a topic with an offline partition.
 */
export async function consoleReadAll(
  brokers: string[],
  include: string,
  idleMs = 10_000,
): Promise<ConsoleRecord[]> {
  const property = (setting: string) => ['--formatter-property', setting];
  const result = await runScript(
    [
      'run-class',
      'org.apache.kafka.tools.consumer.ConsoleConsumer',
      '--bootstrap-server',
      brokers.join(','),
      '--include',
      include,
      '--from-beginning',
      '--timeout-ms',
      String(idleMs),
      ...property('print.partition=true'),
      ...property('print.offset=true'),
      ...property('print.headers=true'),
      ...property('print.key=true'),
      ...property('print.value=false'),
      ...property('headers.separator=\u001f'),
    ],
    {},
  );
  const records: ConsoleRecord[] = [];
  for (const line of result.stdout.split('\n')) {
    const [partition, offset, headers, key] = line.split('\t');
    if (!partition?.startsWith('Partition:') || !offset?.startsWith('Offset:')) continue;
    records.push({
      partition: Number(partition.slice('Partition:'.length)),
      offset: Number(offset.slice('Offset:'.length)),
      key: key ?? '',
      headers: Object.fromEntries(
        (headers ?? '').split('\u001f').map((h) => [h.slice(0, h.indexOf(':')), h.slice(h.indexOf(':') + 1)]),
      ),
    });
  }
  const total = /Processed a total of (\d+) messages/.exec(result.stderr);
  if (!total || Number(total[1]) !== records.length) {
    throw new Error(
      `console consumer: ${records.length} records parsed, ${total ? `${total[1]} processed` : 'no count'}: ${result.stderr.trim().slice(-500)}`,
    );
  }
  return records;
}
