// `npm version` runs this (package.json's "version" script): the one version, package.json's, set
// wherever a file names a release — the Kubernetes specs' image tag and the README's packed tarball —
// so that they never disagree (test/deploy-specs.test.ts checks it).
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const FILES = [
  ['jobs/k8s/cronjob.yaml', /(exsited-order-cleanup:)[0-9][^\s"']*/g],
  ['jobs/k8s/indexed-job.yaml', /(exsited-order-cleanup:)[0-9][^\s"']*/g],
  ['README.md', /(exsited-order-cleanup-)[0-9][0-9A-Za-z.-]*(?=\.tgz)/g],
];
for (const [file, pattern] of FILES) {
  const url = new URL(file, root);
  const text = readFileSync(url, 'utf8');
  const synced = text.replace(pattern, `$1${version}`);
  if (synced !== text) writeFileSync(url, synced);
}
console.log(`version ${version} set in ${FILES.map(([file]) => file).join(', ')}`);
