import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { parseDuration } from '../src/common/durations.js';
import { RUN_OPTIONS } from '../src/config/options.js';

/**
 * Issue 25, item 1: the Kubernetes specs an SRE adopts as they are — valid against the Kubernetes schemas
 * (kubernetes-models), meeting the "restricted" Pod Security Standard with a read-only root filesystem,
 * with a deadline above the run's own, and the image tag the package's version.
 */
const ROOT = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');
const VERSION = (JSON.parse(read('package.json')) as { version: string }).version;
const MODELS: Record<string, new (data: never) => { validate(): void }> = { CronJob, Job, PersistentVolumeClaim };

type Doc = Record<string, any>;
const SPECS = readdirSync(new URL('jobs/k8s/', ROOT)).filter((f) => f.endsWith('.yaml')).map((file) => ({
  file, docs: parseAllDocuments(read(`jobs/k8s/${file}`)).map((doc) => doc.toJS() as Doc).filter(Boolean),
}));
const podOf = (doc: Doc): Doc | undefined => (doc.kind === 'CronJob' ? doc.spec.jobTemplate.spec.template.spec : doc.kind === 'Job' ? doc.spec.template.spec : undefined);
const jobOf = (doc: Doc): Doc => (doc.kind === 'CronJob' ? doc.spec.jobTemplate.spec : doc.spec);

/** The restricted profile's rules (kubernetes.io/docs/concepts/security/pod-security-standards), and a read-only root: what breaks them. */
function restrictedViolations(pod: Doc): string[] {
  const broken: string[] = [];
  const allowedVolumes = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) broken.push('host namespaces');
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (!allowedVolumes.includes(type ?? '')) broken.push(`volume ${volume.name}: ${type}`);
  }
  const seccomp = (c: Doc) => c.securityContext?.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
  for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])] as Doc[]) {
    const sc: Doc = c.securityContext ?? {};
    if (sc.privileged) broken.push(`${c.name}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) broken.push(`${c.name}: allowPrivilegeEscalation is not false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) broken.push(`${c.name}: capabilities not dropped (ALL)`);
    if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== 'NET_BIND_SERVICE')) broken.push(`${c.name}: capabilities added`);
    if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) broken.push(`${c.name}: runAsNonRoot is not true`);
    if ((sc.runAsUser ?? pod.securityContext?.runAsUser) === 0) broken.push(`${c.name}: runs as user 0`);
    if (!['RuntimeDefault', 'Localhost'].includes(seccomp(c))) broken.push(`${c.name}: seccompProfile not RuntimeDefault or Localhost`);
    if (sc.readOnlyRootFilesystem !== true) broken.push(`${c.name}: root filesystem writable`);
    if (!c.resources?.requests || !c.resources?.limits?.memory) broken.push(`${c.name}: no resource requests and memory limit`);
  }
  return broken;
}

/** The longest a pod's run may take by its own options: --max-duration (the job spec's or its args'), the grace period, the reach wait, and a minute for its reports. */
function runBoundSeconds(pod: Doc): number {
  const args = ((pod.containers[0].args ?? []) as string[]).join(' ');
  const job = /--job (\S+)/.exec(args)?.[1];
  const spec = job ? (JSON.parse(read(job.replace('/app/', ''))) as { maxDuration?: string }) : {};
  const maxDuration = /--max-duration (\S+)/.exec(args)?.[1] ?? spec.maxDuration;
  expect(maxDuration).toBeDefined(); // a pod without a deadline of its own would be cut short blindly
  const ms = (parseDuration(maxDuration as string) as number) + (RUN_OPTIONS.graceMs.default as number) + (RUN_OPTIONS.reachWait.default as number) + 60_000;
  return ms / 1000;
}

describe('the Kubernetes specs (jobs/k8s)', () => {
  test.each(SPECS)('$file: valid against the Kubernetes schemas', ({ docs }) => {
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      const Model = MODELS[doc.kind as string];
      expect(Model).toBeDefined();
      expect(() => new Model!(doc as never).validate()).not.toThrow();
    }
  });

  test.each(SPECS)('$file: every pod meets the restricted Pod Security Standard, with a read-only root filesystem and resources', ({ docs }) => {
    const pods = docs.map(podOf).filter((pod): pod is Doc => pod !== undefined);
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) expect(restrictedViolations(pod)).toEqual([]);
  });

  test.each(SPECS)('$file: a hung pod is killed (activeDeadlineSeconds), after the run\'s own deadline, grace and reports', ({ docs }) => {
    for (const doc of docs.filter((d) => podOf(d))) {
      expect(jobOf(doc).activeDeadlineSeconds).toBeGreaterThan(runBoundSeconds(podOf(doc)!));
    }
  });

  test('the image tag and the README\'s tarball are the package\'s version (npm version sets them: scripts/sync-version.mjs)', () => {
    const images = SPECS.flatMap(({ docs }) => docs.map(podOf).filter(Boolean).flatMap((pod) => (pod!.containers as Doc[]).map((c) => c.image as string)));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(new RegExp(`:${VERSION.replace(/\./g, '\\.')}$`));
    const tarballs = [...read('README.md').matchAll(/exsited-order-cleanup-([0-9][0-9A-Za-z.-]*)\.tgz/g)].map((m) => m[1]);
    expect(tarballs.length).toBeGreaterThan(0);
    expect(new Set(tarballs)).toEqual(new Set([VERSION]));
  });

  test('the checker finds what the old specs broke (it is not a test that cannot fail)', () => {
    const old: Doc = { securityContext: { runAsUser: 1000 }, containers: [{ name: 'cleanup', image: 'x:1.0.0' }], volumes: [{ name: 'h', hostPath: { path: '/' } }] };
    expect(restrictedViolations(old)).toEqual(expect.arrayContaining([
      'volume h: hostPath', 'cleanup: allowPrivilegeEscalation is not false', 'cleanup: capabilities not dropped (ALL)', 'cleanup: runAsNonRoot is not true',
      'cleanup: seccompProfile not RuntimeDefault or Localhost', 'cleanup: root filesystem writable',
    ]));
  });
});

/** Issue 25, item 2: alerts an SRE adopts. */
describe('the alerting rules (jobs/prometheus)', () => {
  const rules = (parseAllDocuments(read('jobs/prometheus/alerts.yml'))[0]!.toJS() as Doc).groups.flatMap((g: Doc) => g.rules) as Doc[];
  const tests = (parseAllDocuments(read('jobs/prometheus/alerts.test.yml'))[0]!.toJS() as Doc).tests.flatMap((t: Doc) => t.alert_rule_test) as Doc[];
  const headings = new Set([...read('docs/runbook.md').matchAll(/^## (\S+)$/gm)].map((m) => m[1]));

  test.each(rules.map((rule) => [rule.alert as string, rule] as [string, Doc]))('%s: a runbook_url to its section of docs/runbook.md, and a promtool test where it fires and one where it does not', (_name, rule) => {
    const anchor = /docs\/runbook\.md#([\w-]+)$/.exec(rule.annotations?.runbook_url ?? '')?.[1];
    expect(headings.has(anchor)).toBe(true);
    const own = tests.filter((t) => t.alertname === rule.alert);
    expect(own.some((t) => (t.exp_alerts ?? []).length > 0)).toBe(true);
    expect(own.some((t) => (t.exp_alerts ?? []).length === 0)).toBe(true);
  });

  test('the halted alert tells a deadline (which resumes itself) from a cause a person must see: the cause is a label of it', () => {
    const halted = rules.find((rule) => rule.alert === 'ExsitedCleanupHalted');
    expect(halted?.expr).toContain('cause!~"deadline|credentials"');
    expect(halted?.annotations.summary).toContain('{{ $labels.cause }}');
    expect(rules.some((rule) => /absent\(/.test(rule.expr))).toBe(true);
  });

  test('the documented scrape config (honor_labels) is one Prometheus accepts', () => {
    const promtool = '/usr/bin/promtool';
    expect(existsSync(promtool)).toBe(true); // .ci/run installs Debian's prometheus, which brings promtool
    const block = /### Scraping[\s\S]*?```yaml\n([\s\S]*?)```/.exec(read('docs/deployment.md'))?.[1] ?? '';
    expect(block).toContain('honor_labels: true');
    const dir = mkdtempSync(join(tmpdir(), 'eoc-scrape-'));
    writeFileSync(join(dir, 'prometheus.yml'), block);
    try {
      expect(() => execFileSync(promtool, ['check', 'config', join(dir, 'prometheus.yml')], { stdio: 'pipe' })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
