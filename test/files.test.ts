import { lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { writeFileAtomically } from '../src/common/files.js';
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
});
