import { describe, expect, test } from '@jest/globals';
import { CleanupError } from '../src/common/errors.js';
import { checkBaseUrl, DEFAULT_ALLOWED_HOSTS, displayBaseUrl } from '../src/exsited/host-allowlist.js';

const exitCodeOf = (url: string, hosts = DEFAULT_ALLOWED_HOSTS) => {
  try {
    checkBaseUrl(url, hosts);
    return 0;
  } catch (error) {
    return (error as CleanupError).exitCode;
  }
};

describe('host allowlist', () => {
  test.each([
    'https://dev-api.exsited.com', 'https://API-STAGE.exsited.com./', 'http://localhost:8787', 'http://127.0.0.1:1/base', 'http://[::1]:9',
  ])('allows %s', (url) => expect(exitCodeOf(url)).toBe(0));

  test.each([
    'https://api.exsited.com', 'https://dev-api.exsited.com.evil.example', 'https://evil.example/dev-api.exsited.com', 'http://127.0.0.2',
  ])('refuses %s with exit 3', (url) => expect(exitCodeOf(url)).toBe(3));

  test('an added host is allowed, but plain http only to loopback', () => {
    expect(exitCodeOf('https://qa.example.com', [...DEFAULT_ALLOWED_HOSTS, 'QA.example.com'])).toBe(0);
    expect(exitCodeOf('http://qa.example.com', [...DEFAULT_ALLOWED_HOSTS, 'qa.example.com'])).toBe(3);
  });

  test.each(['not a url', 'ftp://localhost', 'https://user:pw@dev-api.exsited.com', 'https://dev-api.exsited.com/?x=1', 'https://dev-api.exsited.com/#x'])(
    'usage error (exit 2) for %s', (url) => expect(exitCodeOf(url)).toBe(2));

  test('the recorded form keeps scheme, host, port and path only', () => {
    expect(displayBaseUrl(checkBaseUrl('http://localhost:8787/', DEFAULT_ALLOWED_HOSTS))).toBe('http://localhost:8787');
    expect(displayBaseUrl(checkBaseUrl('https://dev-api.exsited.com/prefix/', DEFAULT_ALLOWED_HOSTS))).toBe('https://dev-api.exsited.com/prefix');
  });
});
