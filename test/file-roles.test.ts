import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { refuseCollisions } from '../src/guards/file-roles.js';
import { workDir } from './helpers/cli.js';

const out = (what: string, path: string) => ({ what, path, output: true });

describe('outputs that are the same file (issue 21, case 2)', () => {
  test('two outputs not written yet whose names differ only in case collide where the file system ignores case, and only there', () => {
    const dir = workDir();
    mkdirSync(join(dir, 'Runs'));
    const pair = [out('--html-report', join(dir, 'Runs', 'Report.html')), out('--summary-json', join(dir, 'Runs', 'report.HTML'))];
    expect(() => refuseCollisions(pair, 'nothing was sent')).not.toThrow(); // this file system tells them apart
    // A folder whose name with its case swapped is the same folder: how a case-insensitive file system (macOS, vfat) looks from here.
    symlinkSync(join(dir, 'Runs'), join(dir, 'rUNS'));
    expect(() => refuseCollisions(pair, 'nothing was sent')).toThrow('--summary-json');
  });

  test('a hard link, a symlink chain and a path through .. are the same file; an input may be read by two roles', () => {
    const dir = workDir();
    mkdirSync(join(dir, 'a'));
    symlinkSync(join(dir, 'a'), join(dir, 'link-1'));
    symlinkSync(join(dir, 'link-1'), join(dir, 'link-2'));
    const files = [{ what: '--ids', path: join(dir, 'a', 'ids.txt'), output: false }, { what: '--job', path: join(dir, 'a', 'ids.txt'), output: false }];
    expect(() => refuseCollisions(files, 'nothing was sent')).not.toThrow();
    expect(() => refuseCollisions([...files, out('--html-report', join(dir, 'link-2', '..', 'a', 'ids.txt'))], 'nothing was sent')).toThrow('is the same file as');
    expect(() => refuseCollisions([...files, out('--html-report', join(dir, 'link-2', 'ids.txt'))], 'nothing was sent')).toThrow('--html-report');
    writeFileSync(join(dir, 'a', 'ids.txt'), 'ORD-1\n');
    linkSync(join(dir, 'a', 'ids.txt'), join(dir, 'hard-link.txt'));
    expect(() => refuseCollisions([...files, out('--summary-json', join(dir, 'hard-link.txt'))], 'nothing was sent')).toThrow('is the same file as --ids');
  });
});

describe('an output that names a file descriptor of the process (issue 21, case 2: /dev/fd/21 was the audit log, opened later)', () => {
  test.each(['/dev/fd/921', '/proc/self/fd/907', `/proc/${process.pid}/fd/940`])('%s, not open, is refused; /dev/stdout and /dev/stderr are not', (path) => {
    expect(() => refuseCollisions([out('--metrics-file', path)], 'nothing was sent')).toThrow(/names file descriptor \d+ of this process/);
    expect(() => refuseCollisions([out('--metrics-file', '/dev/stdout'), out('--summary-json', '/dev/stderr')], 'nothing was sent')).not.toThrow();
  });
});

describe('.. after a symbolic link is followed as the kernel follows it (issue 21, case 2: up/../log.ndjson replaced a/log.ndjson)', () => {
  test('the parent of a linked folder is its target\'s parent', () => {
    const dir = workDir();
    mkdirSync(join(dir, 'a', 'deep'), { recursive: true });
    symlinkSync(join(dir, 'a', 'deep'), join(dir, 'up'));
    const log = { what: 'the audit log', path: join(dir, 'a', 'log.ndjson'), output: true, record: true };
    expect(() => refuseCollisions([log, out('--summary-json', `${dir}/up/../log.ndjson`)], 'nothing was sent')).toThrow('is the same file as the audit log');
    expect(() => refuseCollisions([log, out('--summary-json', `${dir}/up/../../log.ndjson`)], 'nothing was sent')).not.toThrow();
  });
});
