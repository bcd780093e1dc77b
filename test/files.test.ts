import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, readSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { fileEnds, readTextFile, writeFileAtomically } from '../src/common/files.js';
import { writeOutputFile } from '../src/common/output-files.js';
import { protectedAs, protectFile } from '../src/common/protected-files.js';
import { workDir, writeFile } from './helpers/cli.js';

describe('writeOutputFile', () => {
  test('replaces a file at once, leaving no temporary file', async () => {
    const dir = workDir();
    const path = join(dir, 'report.html');
    writeFileSync(path, 'old');
    await writeOutputFile(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['report.html']);
  });

  test('a symlink is followed: the file it points to is replaced, the link kept (it was replaced by a plain file)', async () => {
    const dir = workDir();
    mkdirSync(join(dir, 'shared'));
    const real = join(dir, 'shared', 'last-run.html');
    writeFileSync(real, 'old');
    const link = join(dir, 'report.html');
    symlinkSync(real, link);
    await writeOutputFile(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(readFileSync(real, 'utf8')).toBe('new');
    expect(readdirSync(join(dir, 'shared'))).toEqual(['last-run.html']);
  });

  test('a device is written in place, and stays a device', async () => {
    await writeOutputFile('/dev/null', 'nothing');
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    await expect(writeOutputFile('/dev/full', 'x')).rejects.toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(lstatSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  test('a descriptor of this process that leads to a file (/dev/stdout > out.txt) is written through it, at its place: the file is never replaced (red team: the shell\'s file was renamed over, and what was printed after it lost)', async () => {
    const path = join(workDir(), 'out.txt');
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, 'printed before\n');
      const { ino } = statSync(path);
      await writeOutputFile(`/proc/self/fd/${fd}`, '{"summary":1}\n');
      writeSync(fd, 'printed after\n');
      expect(statSync(path).ino).toBe(ino);
      expect(readFileSync(path, 'utf8')).toBe('printed before\n{"summary":1}\nprinted after\n');
    } finally {
      closeSync(fd);
    }
  });

  test('a link to a descriptor whose file was deleted (/dev/stdout once out.txt was renamed over) is written through the descriptor, and stays a link (red team: /dev/stdout itself was replaced by a file)', async () => {
    const dir = workDir();
    const path = join(dir, 'out.txt');
    const fd = openSync(path, 'w');
    try {
      rmSync(path);
      const stdout = join(dir, 'stdout');
      symlinkSync(`/proc/self/fd/${fd}`, stdout);
      await writeOutputFile(stdout, 'json\n');
      expect(lstatSync(stdout).isSymbolicLink()).toBe(true);
      expect(readdirSync(dir)).toEqual(['stdout']);
    } finally {
      closeSync(fd);
    }
  });

  test('another process\'s descriptor that leads to a file is appended to, never written from the file\'s start (red team: its first 1.5 KB were overwritten)', async () => {
    const path = join(workDir(), 'other.log');
    writeFileSync(path, 'OLDLINE\n'.repeat(100));
    const fd = openSync(path, 'a');
    const other = spawn('sleep', ['30'], { stdio: ['ignore', fd, 'ignore'] });
    try {
      await writeOutputFile(`/proc/${other.pid}/fd/1`, '{"summary":1}\n');
      expect(readFileSync(path, 'utf8')).toBe(`${'OLDLINE\n'.repeat(100)}{"summary":1}\n`);
    } finally {
      other.kill();
      closeSync(fd);
    }
  });

  test('another run\'s audit log at the path (a run started meanwhile with it as --audit-log, or a link planted) is never replaced', async () => {
    const dir = workDir();
    const log = writeFile(dir, 'shared.ndjson', '{"level":"info","event":"run.start","runId":"b"}\n');
    await expect(writeOutputFile(log, '{}')).rejects.toThrow('it is now an audit log of this tool (the record of a run): an output never replaces one');
    const link = join(dir, 's.json');
    symlinkSync(log, link);
    await expect(writeOutputFile(link, '{}')).rejects.toThrow('an output never replaces one');
    const starting = writeFile(dir, 'new.ndjson', ''); // created with its lock, its run.start not written yet
    writeFileSync(`${starting}.lock`, '{"pid":1,"host":"h","startedAt":"2026-12-03T00:00:00.000Z","runId":"r1"}\n');
    await expect(writeOutputFile(starting, '{}', { append: true })).rejects.toThrow('an output never replaces one');
    expect(readFileSync(log, 'utf8')).toContain('run.start');
  });

  test('a file with another kind of lock beside it (the token cache\'s, a folder while a run holds it) is no audit log: it is written (busy-machine flake: a run sharing the cache was refused, exit 2)', async () => {
    const dir = workDir();
    const cache = writeFile(dir, 'token-cache.json', '{}');
    mkdirSync(`${cache}.lock`);
    await writeOutputFile(cache, '{"token":1}');
    expect(readFileSync(cache, 'utf8')).toBe('{"token":1}');
  });

  test('appends (the step summary), to a file too', async () => {
    const path = join(workDir(), 'summary.md');
    await writeOutputFile(path, 'one\n', { append: true });
    await writeOutputFile(path, 'two\n', { append: true });
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
  });

  describe('a pipe, written in place and never waited for in open(2)', () => {
    const MIB = 'x'.repeat(1024 * 1024); // far more than a pipe holds (64 KiB): written as its reader takes it
    const fifo = () => {
      const path = join(workDir(), 'out.prom');
      execFileSync('mkfifo', [path]);
      return path;
    };
    const withReader = async (path: string, use: (reader: number) => Promise<void>) => {
      const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        await use(reader);
      } finally {
        closeSync(reader);
      }
    };

    test('nobody reads it: refused at once (ENXIO), nothing written, the pipe left as it is', async () => {
      const path = fifo();
      await expect(writeOutputFile(path, 'metrics')).rejects.toThrow(expect.objectContaining({ code: 'ENXIO' }));
      expect(lstatSync(path).isFIFO()).toBe(true);
    });

    test('a reader that keeps up gets it all', async () => {
      const path = fifo();
      const copy = join(workDir(), 'copy');
      const cat = spawn('sh', ['-c', 'cat "$0" > "$1"', path, copy]);
      const catEnded = new Promise((resolve) => cat.on('exit', resolve));
      // Held open so that the pipe has a reader when the write opens it, however late cat starts.
      await withReader(path, () => writeOutputFile(path, MIB));
      await expect(catEnded).resolves.toBe(0);
      expect(readFileSync(copy, 'utf8')).toBe(MIB);
    });

    test('a reader that takes nothing: given up after 3 s, written in part', async () => {
      const path = fifo();
      await withReader(path, async () => {
        const started = Date.now();
        await expect(writeOutputFile(path, MIB)).rejects.toThrow(/^its reader took \d+ of 1048576 bytes in 3 s: written in part$/);
        expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
      });
    });

    test('the signal ends the wait for the reader at once, with its reason', async () => {
      const path = fifo();
      await withReader(path, async () => {
        const controller = new AbortController();
        const writing = writeOutputFile(path, MIB, { signal: controller.signal });
        controller.abort(new Error('no answer within 3 s'));
        await expect(writing).rejects.toThrow('no answer within 3 s');
      });
    });
  });
});

describe('writeFileAtomically', () => {
  test('a file of secrets: a FIFO planted at the path is replaced, and the neighbour reading it gets nothing', () => {
    const dir = workDir();
    const path = join(dir, 'token-cache.json');
    execFileSync('mkfifo', [path]);
    // A neighbour with the pipe open: a write in place would not even block, and would hand it the text.
    const neighbour = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      writeFileAtomically(path, 'live-token-0123456789', 0o600);
      expect(lstatSync(path).isFile()).toBe(true);
      expect(lstatSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path, 'utf8')).toBe('live-token-0123456789');
      expect(readSync(neighbour, Buffer.alloc(64), 0, 64, null)).toBe(0);
    } finally {
      closeSync(neighbour);
    }
  });

  test('a link at the path is replaced by the file; what it pointed to is not written', () => {
    const dir = workDir();
    const elsewhere = join(dir, 'elsewhere');
    writeFileSync(elsewhere, 'theirs');
    const path = join(dir, 'token-cache.json');
    symlinkSync(elsewhere, path);
    writeFileAtomically(path, 'ours', 0o600);
    expect(lstatSync(path).isFile()).toBe(true);
    expect(readFileSync(elsewhere, 'utf8')).toBe('theirs');
  });
});

describe('readTextFile', () => {
  test('a device that never ends (/dev/zero) is refused past the bound, not read until memory runs out', async () => {
    await expect(readTextFile('/dev/zero', 64 * 1024, 'a --filter file')).rejects.toThrow('it is larger than 64 KiB: too large to be a --filter file');
  });
});

describe('fileEnds', () => {
  test('the first and last bytes of a file; the head alone when the tail is not wanted; a FIFO refused unopened', () => {
    const dir = workDir();
    const path = writeFile(dir, 'log', 'first\nmiddle\nlast\n');
    expect(fileEnds(path, 6)).toMatchObject({ head: 'first\n', tail: '\nlast\n' });
    expect(fileEnds(path, 6, false)).toMatchObject({ head: 'first\n', tail: '' });
    expect(fileEnds(path, 1000)).toMatchObject({ head: 'first\nmiddle\nlast\n', tail: 'first\nmiddle\nlast\n' });
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(() => fileEnds(join(dir, 'fifo'), 6)).toThrow('it is a FIFO');
  });
});

describe('protected files', () => {
  // A run's lock, protected, is deleted as the run ends; ext4 gave its inode to the next file made — in the
  // same process, the next run's metrics file, whose final write was refused as "one of the run's own files"
  // (a flake of the in-process tests on a busy machine; an --auto-resume night alike).
  test('a protected file is held open: deleted, its inode goes to no other file, and the next file is not protected', () => {
    const dir = workDir();
    const path = join(dir, 'a.ndjson.lock');
    writeFileSync(path, '');
    protectFile('the audit log\'s lock', { path });
    const protectedStats = statSync(path);
    expect(protectedAs(protectedStats)).toBe('the audit log\'s lock');

    rmSync(path);
    const next = Array.from({ length: 20 }, (_, i) => statSync(writeFile(dir, `next${i}`, '')));

    expect(next.filter((stats) => stats.ino === protectedStats.ino)).toEqual([]);
    expect(next.map((stats) => protectedAs(stats))).toEqual(next.map(() => undefined));
  });
});
