// The Helm chart (deploy/helm/kiln): helm lint and helm template (helm v4, pinned in scripts/sdk-env) with its default
// values and with production-like values, every rendered manifest validated offline against the Kubernetes API
// schemas of the last three minor versions (kubernetes-validate, pinned there too), and what the manifests must say.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './helpers/kiln-process';

const run = promisify(execFile);
const CHART = path.join(REPO_ROOT, 'deploy/helm/kiln');
const PRODUCTION = path.join(CHART, 'ci/production-values.yaml');
const CACHE = process.env.KILN_TEST_ENV_CACHE ?? '/var/cache/kiln-test-env';
const HELM = path.join(CACHE, 'bin/helm');
const KUBERNETES_VALIDATE = path.join(CACHE, 'k8s-venv/bin/kubernetes-validate');
/** The last three Kubernetes minors kubernetes-validate 1.37.0 has schemas for (checked below against what it has:
 * a newer pin in scripts/sdk-env must move these along). */
const KUBERNETES_VERSIONS = ['1.35.0', '1.36.0', '1.37.0'];
const SERVICES = ['registry', 'builder', 'inference'] as const;
const HEALTH_NAMES = { registry: 'kiln.v1.Registry', builder: 'kiln.v1.Builder', inference: 'kiln.v1.Inference' };
const PORTS = { registry: 50051, builder: 50052, inference: 50053 };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = Record<string, any>;

describe('Helm chart deploy/helm/kiln', () => {
  let dir: string;
  let helmEnv: NodeJS.ProcessEnv;
  let defaults: Manifest[];
  let production: Manifest[];
  let defaultsYaml: string;
  let productionYaml: string;

  const helm = async (args: string[]): Promise<string> => {
    const { stdout } = await run(HELM, args, { env: helmEnv, maxBuffer: 16 << 20, timeout: 60_000 });
    return stdout;
  };
  /** helm template with the release kiln in namespace kiln (the production values' certificate names assume it). */
  const template = (...args: string[]): Promise<string> => helm(['template', 'kiln', CHART, '--namespace', 'kiln', ...args]);
  const parse = (text: string): Manifest[] =>
    parseAllDocuments(text).map((d) => d.toJSON() as Manifest).filter((m) => m && typeof m === 'object');
  const find = (manifests: Manifest[], kind: string, name: string): Manifest => {
    const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(m, `no ${kind} ${name} in ${manifests.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
    return m;
  };
  const deployments = (manifests: Manifest[]) => SERVICES.map((s) => find(manifests, 'Deployment', `kiln-${s}`));
  const container = (deployment: Manifest): Manifest => deployment.spec.template.spec.containers[0];

  before(async () => {
    // Builds helm and makes the kubernetes-validate venv on the first run (minutes), then returns at once.
    await run('bash', [path.join(REPO_ROOT, 'scripts/sdk-env'), '--only', 'helm', 'kubernetes-validate'], {
      maxBuffer: 1 << 20,
      timeout: 30 * 60_000,
    }).catch((err) => {
      throw new Error(`scripts/sdk-env --only helm kubernetes-validate failed: ${err.stderr ?? err.message}`);
    });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-helm-'));
    // Helm's own folders (repositories, plugins, cache) stay out of the home directory.
    helmEnv = { ...process.env, HELM_CONFIG_HOME: path.join(dir, 'config'), HELM_CACHE_HOME: path.join(dir, 'cache'), HELM_DATA_HOME: path.join(dir, 'data') };
    [defaultsYaml, productionYaml] = await Promise.all([template(), template('--values', PRODUCTION)]);
    defaults = parse(defaultsYaml);
    production = parse(productionYaml);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('helm lint --strict passes with the default values and with the production values', async () => {
    // The binary is the one scripts/sdk-env pins (it records what it built each tool from).
    const pin = /"helm (helm\.sh\/helm\/v4\/cmd\/helm@v4\.\d+\.\d+)"/.exec(await readFile(path.join(REPO_ROOT, 'scripts/sdk-env'), 'utf8'));
    assert.ok(pin, 'scripts/sdk-env pins helm v4');
    assert.equal((await readFile(path.join(CACHE, 'bin/.helm.version'), 'utf8')).trim(), pin[1]);
    for (const values of [[], ['--values', PRODUCTION]]) {
      const out = await helm(['lint', '--strict', CHART, '--namespace', 'kiln', ...values]);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it(`every rendered manifest validates against the Kubernetes ${KUBERNETES_VERSIONS.join(', ')} API schemas (strict)`, async () => {
    // These are the newest three the installed kubernetes-validate knows.
    const lib = path.join(path.dirname(path.dirname(KUBERNETES_VALIDATE)), 'lib');
    const [python] = await readdir(lib);
    const schemas = await readdir(path.join(lib, python, 'site-packages/kubernetes_validate/kubernetes-json-schema'));
    const known = schemas.filter((s) => /^v\d+\.\d+\.\d+-local-strict$/.test(s)).map((s) => s.slice(1, -'-local-strict'.length))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    assert.deepEqual(known.slice(-3), KUBERNETES_VERSIONS, 'KUBERNETES_VERSIONS are the last three kubernetes-validate has');

    const files = { defaults: path.join(dir, 'defaults.yaml'), production: path.join(dir, 'production.yaml') };
    await writeFile(files.defaults, defaultsYaml);
    await writeFile(files.production, productionYaml);
    for (const version of KUBERNETES_VERSIONS) {
      const result = await run(KUBERNETES_VALIDATE, ['--strict', '--kubernetes-version', version, files.defaults, files.production], { timeout: 120_000 })
        .then(({ stdout, stderr }) => ({ ok: true, out: stdout + stderr }), (err) => ({ ok: false, out: `${err.stdout}${err.stderr}` }));
      assert.ok(result.ok && !/ERROR|FATAL|WARN/.test(result.out), `against ${version}:\n${result.out}`);
      const passed = result.out.split('\n').filter((l) => l.includes(' passed for resource ')).length;
      assert.equal(passed, defaults.length + production.length, `every manifest checked against ${version}:\n${result.out}`);
    }
    // Everything the issue asks for is among them.
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceAccount', 'ConfigMap']) {
      assert.ok(production.some((m) => m.kind === kind), `a ${kind} is rendered`);
    }
  });

  it('each service is a Deployment of the one image, started with its name, with its own replicas and resources', () => {
    for (const [i, d] of deployments(production).entries()) {
      const c = container(d);
      assert.deepEqual(c.args, [SERVICES[i]]);
      assert.equal(c.command, undefined, 'the image\'s entrypoint runs the service');
      assert.equal(c.image, 'registry.example.com/kiln/kiln@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
      assert.equal(d.spec.replicas, 2);
    }
    assert.equal(container(find(production, 'Deployment', 'kiln-builder')).resources.limits.memory, '2Gi');
    assert.equal(container(find(production, 'Deployment', 'kiln-registry')).resources.limits.memory, '512Mi');
    assert.equal(container(find(defaults, 'Deployment', 'kiln-registry')).image, 'kiln:0.1.0', 'tag defaults to appVersion');
  });

  it('every pod runs non-root, with a read-only root filesystem, every capability dropped, and writable emptyDirs for the data folder and /tmp', () => {
    for (const d of [...deployments(defaults), ...deployments(production)]) {
      const pod = d.spec.template.spec;
      const c = container(d);
      assert.equal(pod.securityContext.runAsNonRoot, true, d.metadata.name);
      assert.ok(pod.securityContext.runAsUser > 0);
      assert.equal(c.securityContext.runAsNonRoot, true);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      assert.equal(c.securityContext.capabilities.add, undefined);
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(pod.serviceAccountName, 'kiln');
      const mounts = Object.fromEntries(c.volumeMounts.map((m: Manifest) => [m.mountPath, m.name]));
      const emptyDirs = new Set(pod.volumes.filter((v: Manifest) => v.emptyDir).map((v: Manifest) => v.name));
      assert.ok(emptyDirs.has(mounts['/var/lib/kiln']) && emptyDirs.has(mounts['/tmp']), 'data folder and /tmp are emptyDirs');
    }
    const config = find(defaults, 'ConfigMap', 'kiln').data;
    assert.equal(config.KILN_DATA_DIR, '/var/lib/kiln');
    assert.equal(config.GLIBC_TUNABLES, 'glibc.malloc.mmap_threshold=131072');
  });

  it('each Deployment has native gRPC startup, readiness and liveness probes on grpc.health.v1 for its own service name', () => {
    for (const [i, d] of deployments(defaults).entries()) {
      const c = container(d);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        assert.deepEqual(c[probe].grpc, { port: PORTS[SERVICES[i]], service: HEALTH_NAMES[SERVICES[i]] }, `${d.metadata.name} ${probe}`);
      }
      assert.ok(c.livenessProbe.periodSeconds * c.livenessProbe.failureThreshold >= 60, 'liveness outlasts a short dependency outage');
      assert.equal(c.ports.find((p: Manifest) => p.name === 'grpc').containerPort, PORTS[SERVICES[i]]);
    }
    // The kubelet's gRPC probes speak no TLS: with TLS on, the probes check the port instead of failing every time.
    for (const d of deployments(production)) {
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        assert.deepEqual(container(d)[probe].tcpSocket, { port: 'grpc' }, `${d.metadata.name} ${probe} with TLS`);
      }
    }
  });

  it('the NetworkPolicies admit only the registry\'s pods to the builder\'s and inference\'s gRPC ports', () => {
    const registryPods = find(defaults, 'Deployment', 'kiln-registry').spec.template.metadata.labels;
    for (const s of ['builder', 'inference'] as const) {
      for (const manifests of [defaults, production]) {
        const policy = find(manifests, 'NetworkPolicy', `kiln-${s}`).spec;
        const pods = find(manifests, 'Deployment', `kiln-${s}`).spec.template.metadata.labels;
        for (const [k, v] of Object.entries(policy.podSelector.matchLabels)) assert.equal(pods[k], v, `the policy selects the ${s} pods`);
        assert.deepEqual(policy.policyTypes, ['Ingress']);
        const grpcRules = policy.ingress.filter((r: Manifest) => r.ports.some((p: Manifest) => p.port === 'grpc'));
        assert.equal(grpcRules.length, 1);
        assert.deepEqual(grpcRules[0].from, [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'kiln', 'app.kubernetes.io/instance': 'kiln', 'app.kubernetes.io/component': 'registry' } } }]);
        for (const [k, v] of Object.entries(grpcRules[0].from[0].podSelector.matchLabels)) assert.equal(registryPods[k], v);
        for (const rule of policy.ingress) {
          assert.ok(rule.from?.length, 'no rule admits every source');
          assert.ok(rule.ports.every((p: Manifest) => ['grpc', 'metrics'].includes(p.port)));
        }
      }
    }
    const metrics = find(production, 'NetworkPolicy', 'kiln-builder').spec.ingress.find((r: Manifest) => r.ports[0].port === 'metrics');
    assert.deepEqual(metrics.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    assert.equal(defaults.filter((m) => m.kind === 'NetworkPolicy').length, 2, 'the registry stays open to its clients');
  });

  it('the registry\'s Service is headless (its name resolves to every replica) and the services address each other by those names', () => {
    for (const s of SERVICES) {
      const service = find(production, 'Service', `kiln-${s}`).spec;
      assert.equal(service.clusterIP, 'None', `${s} is headless`);
      assert.equal(service.ports.find((p: Manifest) => p.name === 'grpc').port, PORTS[s]);
      assert.equal(service.selector['app.kubernetes.io/component'], s);
    }
    const config = find(production, 'ConfigMap', 'kiln').data;
    for (const s of SERVICES) {
      assert.equal(config[`KILN_${s.toUpperCase()}_ADDRESS`], `dns:///kiln-${s}.kiln.svc.cluster.local:${PORTS[s]}`);
      assert.equal(config[`KILN_${s.toUpperCase()}_LISTEN`], `0.0.0.0:${PORTS[s]}`);
    }
  });

  it('a PodDisruptionBudget per service selects its pods and lets one be evicted at a time', () => {
    for (const manifests of [defaults, production]) {
      for (const s of SERVICES) {
        const pdb = find(manifests, 'PodDisruptionBudget', `kiln-${s}`).spec;
        assert.equal(pdb.maxUnavailable, 1);
        assert.equal(pdb.selector.matchLabels['app.kubernetes.io/component'], s);
      }
    }
  });

  it('secrets reach the pods only as secretKeyRef: no secret value is in the ConfigMap or a pod spec', async () => {
    const secrets = {
      'service-token': 'svc-0123456789abcdef0123456789abcdef',
      'admin-token': 'kiln_0123456789abcdef0123456789abcdef0123',
      'database-url': 'postgres://kiln:pg-password-42@db:5432/kiln',
      's3-access-key-id': 'AKIAKILNTEST', 's3-secret-access-key': 's3-secret-key-42', 'registry-password': 'oci-password-42',
    };
    const sets = Object.entries(secrets).flatMap(([k, v]) => ['--set-string', `secrets.data.${k}=${v}`]);
    const text = await template('--set', 'secrets.create=true', '--set', 'images.registry=registry.example.com', '--set', 'images.password.key=registry-password', ...sets);
    const manifests = parse(text);
    const secret = find(manifests, 'Secret', 'kiln');
    assert.deepEqual(secret.stringData, secrets);
    const others = JSON.stringify(manifests.filter((m) => m.kind !== 'Secret'));
    for (const value of Object.values(secrets)) assert.ok(!others.includes(value), `${value} only in the Secret`);

    const envOf = (manifests: Manifest[], s: string) => Object.fromEntries(container(find(manifests, 'Deployment', `kiln-${s}`)).env.map((e: Manifest) => [e.name, e]));
    const registry = envOf(manifests, 'registry');
    for (const name of ['KILN_SERVICE_TOKEN', 'KILN_ADMIN_TOKEN', 'DATABASE_URL', 'KILN_S3_ACCESS_KEY_ID', 'KILN_S3_SECRET_ACCESS_KEY']) {
      assert.equal(registry[name].value, undefined, name);
      assert.equal(registry[name].valueFrom.secretKeyRef.name, 'kiln', name);
    }
    assert.equal(envOf(manifests, 'builder').KILN_IMAGE_REGISTRY_PASSWORD.valueFrom.secretKeyRef.key, 'registry-password');
    assert.equal(envOf(manifests, 'builder').KILN_ADMIN_TOKEN, undefined, 'the admin token goes to the registry only');
    assert.equal(envOf(manifests, 'inference').DATABASE_URL, undefined, 'the database URL goes to the registry only');
    const secretNames = new Set(['KILN_SERVICE_TOKEN', 'KILN_ADMIN_TOKEN', 'DATABASE_URL', 'KILN_S3_ACCESS_KEY_ID', 'KILN_S3_SECRET_ACCESS_KEY', 'KILN_IMAGE_REGISTRY_PASSWORD']);
    for (const m of [manifests, production]) {
      assert.ok(Object.keys(find(m, 'ConfigMap', 'kiln').data).every((k) => !secretNames.has(k)), 'no secret setting in the ConfigMap');
    }

    // Production: each from the Secret it names, none made by the chart.
    assert.ok(!production.some((m) => m.kind === 'Secret'));
    const prod = envOf(production, 'registry');
    assert.deepEqual(prod.DATABASE_URL.valueFrom.secretKeyRef, { name: 'kiln-postgres-app', key: 'uri' });
    assert.deepEqual(prod.KILN_SERVICE_TOKEN.valueFrom.secretKeyRef, { name: 'kiln-secrets', key: 'service-token' });
    assert.deepEqual(prod.KILN_SIGNING_KEY.valueFrom.secretKeyRef, { name: 'kiln-secrets', key: 'signing-key' });
  });

  it('the production values carry TLS (the Secret mounted whole, for rotation), mTLS between the services, and OIDC', () => {
    const config = find(production, 'ConfigMap', 'kiln').data;
    assert.equal(config.KILN_TLS_CERT, '/etc/kiln/tls/tls.crt');
    assert.equal(config.KILN_TLS_KEY, '/etc/kiln/tls/tls.key');
    assert.equal(config.KILN_TLS_CA, '/etc/kiln/tls/ca.crt');
    assert.equal(config.KILN_TLS_CLIENT_CA, '/etc/kiln/tls/ca.crt');
    assert.equal(config.KILN_TLS_SERVICE_NAMES, 'kiln-registry.kiln.svc,kiln-builder.kiln.svc,kiln-inference.kiln.svc');
    assert.equal(config.KILN_AUTH, 'on');
    assert.equal(config.KILN_OIDC_ISSUER, 'https://sso.example.com/realms/ml');
    assert.equal(config.KILN_OIDC_AUDIENCE, 'kiln');
    assert.equal(config.KILN_OIDC_JWKS_URL, 'https://sso.example.com/realms/ml/protocol/openid-connect/certs');
    assert.equal(config.KILN_OIDC_ROLES, 'groups:ml-platform=admin@*,groups:team-fraud=writer@fraud');
    assert.equal(config.KILN_MAX_UPLOAD_BYTES, '549755813888', 'config passes other settings through');
    for (const d of deployments(production)) {
      const c = container(d);
      const mount = c.volumeMounts.find((m: Manifest) => m.mountPath === '/etc/kiln/tls');
      assert.ok(mount && mount.readOnly && !mount.subPath, 'the TLS Secret is mounted whole (a subPath never sees a rotation)');
      assert.equal(d.spec.template.spec.volumes.find((v: Manifest) => v.name === mount.name).secret.secretName, 'kiln-tls');
    }
    assert.equal(find(defaults, 'ConfigMap', 'kiln').data.KILN_TLS_CERT, undefined, 'no TLS by default');
  });

  it('helm template fails, naming what to set, when no authentication is configured; auth.mode=none renders an open Kiln only when said', async () => {
    const failure = async (...args: string[]): Promise<string> => {
      const err = await template(...args).then(() => undefined, (e: { stderr: string }) => e);
      assert.ok(err, `helm template ${args.join(' ')} should fail`);
      return err.stderr;
    };
    const noTokens = ['--set', 'auth.serviceToken.key=', '--set', 'auth.adminToken.key='];
    assert.match(await failure(...noTokens), /no authentication between the services: set auth\.serviceToken\.key .*auth\.mode=none/);
    assert.match(await failure('--set', 'auth.adminToken.key='), /no way for users to authenticate: set auth\.adminToken\.key .*auth\.oidc/);
    assert.match(await failure('--set', 'registry.replicas=2', '--set', 'database.url.key='), /registry\.replicas > 1 needs database\.url\.key/);
    assert.match(await failure('--set', 'tls.enabled=true'), /tls\.enabled needs tls\.secretName/);
    assert.match(await failure('--set', 'auth.oidc.issuer=https://sso.example.com'), /issuer, audience and jwksUrl together/);

    // mTLS with the services' certificate names stands in for the service token; OIDC for the admin token.
    await template(...noTokens, '--set', 'tls.enabled=true', '--set', 'tls.secretName=kiln-tls', '--set', 'tls.clientCA=true',
      '--set', 'tls.serviceNames={kiln-registry}', '--set', 'auth.oidc.issuer=https://sso.example.com', '--set', 'auth.oidc.audience=kiln',
      '--set', 'auth.oidc.jwksUrl=https://sso.example.com/jwks');
    const open = parse(await template(...noTokens, '--set', 'auth.mode=none'));
    assert.equal(find(open, 'ConfigMap', 'kiln').data.KILN_AUTH, 'none');
    assert.ok(!container(find(open, 'Deployment', 'kiln-registry')).env.some((e: Manifest) => /TOKEN/.test(e.name)));
  });

  it('values.yaml documents every value', async () => {
    const lines = (await readFile(path.join(CHART, 'values.yaml'), 'utf8')).split('\n');
    // A key is documented by a comment right above it, or by its parent's (a block documented as a whole), or when it
    // is a section whose every key is documented.
    interface Key { line: number; indent: number; name: string; commented: boolean; parent?: Key; children: Key[] }
    const keys: Key[] = [];
    const stack: Key[] = [];
    lines.forEach((text, line) => {
      const m = /^(\s*)([A-Za-z][\w-]*):/.exec(text);
      if (!m) return;
      const indent = m[1].length;
      while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
      const above = lines[line - 1]?.trim() ?? '';
      const key: Key = { line: line + 1, indent, name: m[2], commented: above.startsWith('#'), parent: stack[stack.length - 1], children: [] };
      key.parent?.children.push(key);
      keys.push(key);
      stack.push(key);
    });
    const byParent = (k: Key): boolean => Boolean(k.parent && (k.parent.commented || byParent(k.parent)));
    const documented = (k: Key): boolean => k.commented || byParent(k) || (k.children.length > 0 && k.children.every(documented));
    const missing = keys.filter((k) => !documented(k)).map((k) => `line ${k.line}: ${k.name}`);
    assert.deepEqual(missing, [], 'every value has a comment');
    assert.ok(keys.length > 60);
  });
});
