// deploy/: the image, compose.yaml and the Kubernetes manifests cannot run here (no container engine),
// so each is validated against its schema and checked against what the hub builds, serves and reads:
// the command's file, the ports, the variables, the probe paths, the roles. Every check is also fed a
// mutated copy, which it must refuse.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  appFacts,
  checkCompose,
  checkDockerfile,
  checkKubernetes,
  DEPLOY,
  imageDefaults,
  parseDockerfile,
  readJson,
  readYaml,
  schemaCheck,
  type Json,
} from './manifests.js';

const facts = appFacts();
const schemas = await schemaCheck();
const dockerfile = parseDockerfile(readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8'));
const image = imageDefaults(dockerfile);
const [compose] = readYaml(join(DEPLOY, 'compose.yaml')) as [Json];
const K8S = join(DEPLOY, 'k8s');
const k8sFiles = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const k8s = k8sFiles.flatMap((f) => readYaml(join(K8S, f)));

const copy = <T>(value: T): T => structuredClone(value);
type Container = {
  command?: string[];
  args?: string[];
  readinessProbe: { httpGet: { path: string } };
} & Json;
const containerOf = (objects: Json[], deployment: string): Container => {
  const d = objects.find((o) => o.kind === 'Deployment' && (o.metadata as Json).name === deployment)!;
  return ((d.spec as Json).template as { spec: { containers: Container[] } }).spec.containers[0]!;
};

describe('the facts the deployment files are checked against', () => {
  it('are read from the hub itself', () => {
    expect([...facts.probeRoutes].sort()).toEqual(['/health/live', '/health/ready', '/metrics']);
    expect(facts.metricsPath).toBe('/metrics');
    expect(facts.cliCommands.has('migrate')).toBe(true);
    expect(facts.envNames.hub.has('LGSP_ROLES')).toBe(true);
    expect(facts.envNames.hub.has('LGSP_KAFKA_SASL_PASSWORD_FILE')).toBe(true);
    expect(facts.envNames.hub.has('LGSP_SIM_HOST')).toBe(false);
    expect(facts.envNames.simulators.has('LGSP_SIM_HOST')).toBe(true);
    expect(facts.imageHas('dist/apps/hub/src/main.js')).toBe(true);
    expect(facts.imageHas('dist/apps/hub/src/main.spec.js')).toBe(false);
    expect(facts.imageHas('dist/apps/hub/src/nothing.js')).toBe(false);
  });
});

describe('deploy/Dockerfile', () => {
  it('builds in two stages on Node 24, runs the hub as a non-root user, and probes a path the hub serves', () => {
    expect(checkDockerfile(dockerfile, facts)).toEqual([]);
    expect(image.entrypoint.concat(image.cmd)).toEqual(['node', 'dist/apps/hub/src/main.js']);
    expect(image.expose.sort()).toEqual([3000, 9464]);
  });

  it('is refused when its command, health check, ports, variables or user change to what the hub does not have', () => {
    const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    const mutated = (from: string, to: string) => {
      expect(text).toContain(from);
      return checkDockerfile(parseDockerfile(text.replace(from, to)), facts);
    };
    expect(mutated('CMD ["dist/apps/hub/src/main.js"]', 'CMD ["dist/apps/hub/main.js"]')).toEqual([
      'Dockerfile: the default command runs dist/apps/hub/main.js, which the image does not have',
    ]);
    expect(mutated("'/health/live'", "'/healthz'")).toEqual([
      'Dockerfile: HEALTHCHECK: probes /healthz, which the hub does not serve (it serves /health/live, /health/ready, /metrics)',
    ]);
    expect(mutated('EXPOSE 3000 9464', 'EXPOSE 8080')).toEqual([
      'Dockerfile: EXPOSE 8080, but the hub listens on 3000 9464',
    ]);
    expect(mutated('LGSP_LOG_FORMAT=json', 'LGSP_LOGFORMAT=json')).toEqual([
      'Dockerfile: ENV LGSP_LOGFORMAT is not a variable the hub reads',
    ]);
    expect(mutated('USER node', 'USER root')).toEqual(['Dockerfile: the runtime runs as root']);
  });
});

describe('deploy/compose.yaml', () => {
  it('validates against the Compose Specification', () => {
    expect(schemas.compose(compose)).toEqual([]);
  });

  it('runs three API replicas and a worker that cover every role, probed, scraped and configured as the hub reads', () => {
    expect(checkCompose(compose, image, facts)).toEqual([]);
    const services = compose.services as Record<string, { environment?: Record<string, string> }>;
    const roles = Object.values(services)
      .map((s) => s.environment?.LGSP_ROLES)
      .filter(Boolean);
    expect(roles).toEqual(['api', 'api', 'api', 'relay,projection,connectors,webhooks,replay']);
    const brokers = Object.keys(services).filter((s) => s.startsWith('kafka-'));
    expect(brokers).toHaveLength(3);
    for (const b of brokers)
      expect(services[b]!.environment).toMatchObject({
        KAFKA_DEFAULT_REPLICATION_FACTOR: 3,
        KAFKA_MIN_INSYNC_REPLICAS: 2,
        KAFKA_PROCESS_ROLES: 'broker,controller',
      });
  });

  it('is refused when a command, a probe path, a variable or a role changes to what the hub does not have', () => {
    const services = (doc: Json) => doc.services as Record<string, Json>;
    const withCommand = copy(compose);
    services(withCommand)['hub-worker']!.command = ['dist/apps/hub/src/worker.js'];
    expect(checkCompose(withCommand, image, facts)).toContain(
      'compose: hub-worker: runs dist/apps/hub/src/worker.js, which the image does not have',
    );
    const withCli = copy(compose);
    services(withCli).migrate!.command = ['bin/lgsp.js', 'migrations'];
    expect(checkCompose(withCli, image, facts)).toEqual([
      'compose: migrate: runs lgsp migrations: not a command of the CLI',
    ]);
    const withProbe = copy(compose);
    const probe = services(withProbe)['hub-worker']!.healthcheck as { test: string[] };
    probe.test = probe.test.map((t) => t.replace('/health/ready', '/ready'));
    expect(checkCompose(withProbe, image, facts)).toEqual([
      'compose: hub-worker: healthcheck: probes /ready, which the hub does not serve (it serves /health/live, /health/ready, /metrics)',
    ]);
    const withConfig = copy(compose);
    (withConfig.configs as Record<string, { file: string }>).prometheus!.file = './prometheus/missing.yml';
    expect(checkCompose(withConfig, image, facts)).toEqual([
      'compose: config prometheus: ./prometheus/missing.yml is missing',
    ]);
    const withEnv = copy(compose);
    (services(withEnv)['hub-api-2']!.environment as Json).LGSP_ROLE = 'api';
    expect(checkCompose(withEnv, image, facts)).toEqual([
      'compose: hub-api-2: LGSP_ROLE is not a variable the hub reads',
    ]);
    const withRoles = copy(compose);
    (services(withRoles)['hub-worker']!.environment as Json).LGSP_ROLES =
      'relay,projection,connectors,webhooks';
    expect(checkCompose(withRoles, image, facts)).toEqual(['compose: no process runs replay']);
    const withValue = copy(compose);
    (services(withValue)['hub-api-1']!.environment as Json).LGSP_ROLES = 'api,ingest';
    expect(checkCompose(withValue, image, facts)).toContain(
      'compose: hub-api-1: LGSP_ROLES: unknown role "ingest"; use all or a comma-separated list of api, relay, projection, connectors, webhooks, replay',
    );
  });

  it('is refused by the schema when a key is not Compose', () => {
    const broken = copy(compose);
    (broken.services as Record<string, Json>)['hub-api-1']!.helthcheck = { test: ['CMD', 'true'] };
    expect(schemas.compose(broken)).not.toEqual([]);
  });
});

describe('deploy/k8s', () => {
  it('lists every manifest in its kustomization', () => {
    const [kustomization] = readYaml(join(K8S, 'kustomization.yaml'));
    expect([...(kustomization!.resources as string[])].sort()).toEqual([...k8sFiles].sort());
  });

  it('validates every object against the Kubernetes schema of its kind', () => {
    expect(k8s.map((o) => `${String(o.kind)} ${String((o.metadata as Json).name)}`).sort()).toEqual([
      'ConfigMap lgsp-hub-config',
      'ConfigMap lgsp-hub-env',
      'Deployment lgsp-hub-api',
      'Deployment lgsp-hub-worker',
      'HorizontalPodAutoscaler lgsp-hub-api',
      'NetworkPolicy lgsp-hub-api-ingress',
      'NetworkPolicy lgsp-hub-egress',
      'NetworkPolicy lgsp-hub-worker-ingress',
      'PodDisruptionBudget lgsp-hub-api',
      'PodDisruptionBudget lgsp-hub-worker',
      'Service lgsp-hub-api',
      'Service lgsp-hub-worker',
      'ServiceAccount lgsp-hub',
    ]);
    expect(k8s.flatMap((o) => schemas.kubernetes(o))).toEqual([]);
  });

  it('runs the API and the worker as the hub reads them: command, ports, variables, probes, roles, selectors', () => {
    expect(checkKubernetes(k8s, image, facts)).toEqual([]);
    const configMap = k8s.find((o) => (o.metadata as Json).name === 'lgsp-hub-config')!;
    expect(JSON.parse((configMap.data as Record<string, string>)['hub.json']!)).toEqual(
      readJson(join(DEPLOY, 'config/hub.json')),
    );
  });

  it('is refused when a command, a probe path, a port or a variable changes to what the hub does not have', () => {
    const withArgs = copy(k8s);
    containerOf(withArgs, 'lgsp-hub-api').args = ['dist/apps/hub/src/server.js'];
    expect(checkKubernetes(withArgs, image, facts)).toEqual([
      "k8s: lgsp-hub-api/hub: runs dist/apps/hub/src/server.js, which is not one of the image's programs",
      'k8s: no process runs api',
    ]);
    const withCommand = copy(k8s);
    containerOf(withCommand, 'lgsp-hub-worker').command = ['npm', 'start'];
    expect(checkKubernetes(withCommand, image, facts)).toEqual([
      'k8s: lgsp-hub-worker/hub: runs ["npm","start","dist/apps/hub/src/main.js"], not node <file>',
      'k8s: no process runs relay, projection, connectors, webhooks, replay',
    ]);
    const withProbe = copy(k8s);
    containerOf(withProbe, 'lgsp-hub-api').readinessProbe.httpGet.path = '/ready';
    expect(checkKubernetes(withProbe, image, facts)).toEqual([
      'k8s: lgsp-hub-api/hub: readinessProbe asks /ready, which the hub does not serve',
    ]);
    const withPort = copy(k8s);
    const ports = containerOf(withPort, 'lgsp-hub-worker').ports as { containerPort: number }[];
    ports[0]!.containerPort = 8080;
    expect(checkKubernetes(withPort, image, facts)).toEqual([
      'k8s: lgsp-hub-worker/hub: declares ports 8080, 9464, the hub listens on 3000, 9464',
      "k8s: lgsp-hub-worker/hub: startupProbe asks port http, not the hub's 3000",
      "k8s: lgsp-hub-worker/hub: livenessProbe asks port http, not the hub's 3000",
      "k8s: lgsp-hub-worker/hub: readinessProbe asks port http, not the hub's 3000",
    ]);
    const withEnv = copy(k8s);
    const env = k8s.findIndex((o) => (o.metadata as Json).name === 'lgsp-hub-env');
    (withEnv[env]!.data as Json).LGSP_KAFKA_SASL_MECHANISM = 'scram-sha-1';
    expect(checkKubernetes(withEnv, image, facts).join('\n')).toMatch(/LGSP_KAFKA_SASL_MECHANISM/);
  });

  it('is refused by the schema when a field is not of its kind', () => {
    const broken = copy(k8s.find((o) => o.kind === 'Deployment')!);
    (broken.spec as Json).replicas = 'three';
    expect(schemas.kubernetes(broken)).toEqual([
      'Deployment lgsp-hub-api: data/spec/replicas must be integer',
    ]);
    const unknown = copy(broken);
    (unknown.spec as Json).replicas = 3;
    containerOf([unknown], 'lgsp-hub-api').readinessProbe.httpGet.path = '/health/ready';
    (((unknown.spec as Json).template as Json).spec as Json).restartPolicy = ['Always'];
    expect(schemas.kubernetes(unknown).join('\n')).toMatch(
      /^Deployment lgsp-hub-api: data\/spec\/template\/spec\/restartPolicy must be string/,
    );
  });
});
