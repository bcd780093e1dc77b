import { execFileSync } from 'node:child_process';
import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, readSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { readTextFile, writeFileAtomically } from '../src/common/files.js';
import { workDir } from './helpers/cli.js';

describe('writeFileAtomically', () => {
  test('replaces a file at once, leaving no temporary file', () => {
    const dir = workDir();
    const path = join(dir, 'report.html');
    writeFileSync(path, 'old');
    writeFileAtomically(path, 'new', 0o644);
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['report.html']);
  });

  test('a symlink is followed: the file it points to is replaced, the link kept (it was replaced by a plain file)', () => {
    const dir = workDir();
    mkdirSync(join(dir, 'shared'));
    const real = join(dir, 'shared', 'last-run.html');
    writeFileSync(real, 'old');
    const link = join(dir, 'report.html');
    symlinkSync(real, link);
    writeFileAtomically(link, 'new', 0o644);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(readFileSync(real, 'utf8')).toBe('new');
    expect(readdirSync(join(dir, 'shared'))).toEqual(['last-run.html']);
  });

  test('a device is written in place, and stays a device', () => {
    writeFileAtomically('/dev/null', 'nothing', 0o644);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(() => writeFileAtomically('/dev/full', 'x', 0o644)).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(lstatSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  test('replace (a file of secrets): a FIFO planted at the path is replaced, and the neighbour reading it gets nothing', () => {
    const dir = workDir();
    const path = join(dir, 'token-cache.json');
    execFileSync('mkfifo', [path]);
    // A neighbour with the pipe open: a write in place would not even block, and would hand it the text.
    const neighbour = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      writeFileAtomically(path, 'live-token-0123456789', 0o600, { replace: true });
      expect(lstatSync(path).isFile()).toBe(true);
      expect(lstatSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path, 'utf8')).toBe('live-token-0123456789');
      expect(readSync(neighbour, Buffer.alloc(64), 0, 64, null)).toBe(0);
    } finally {
      closeSync(neighbour);
    }
  });

  test('replace: a link at the path is replaced by the file; what it pointed to is not written', () => {
    const dir = workDir();
    const elsewhere = join(dir, 'elsewhere');
    writeFileSync(elsewhere, 'theirs');
    const path = join(dir, 'token-cache.json');
    symlinkSync(elsewhere, path);
    writeFileAtomically(path, 'ours', 0o600, { replace: true });
    expect(lstatSync(path).isFile()).toBe(true);
    expect(readFileSync(elsewhere, 'utf8')).toBe('theirs');
  });
});

describe('readTextFile', () => {
  test('a device that never ends (/dev/zero) is refused past the bound, not read until memory runs out', async () => {
    await expect(readTextFile('/dev/zero', 64 * 1024, 'a --filter file')).rejects.toThrow('it is larger than 64 KiB: too large to be a --filter file');
  });
});
