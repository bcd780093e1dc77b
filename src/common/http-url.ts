/**
 * An http(s) URL given by a person (a flag, a variable, a job file), parsed once with the WHATWG parser —
 * the one every later use relies on — and checked. A problem is told in words that never echo the text:
 * a URL may carry `user:password@`, and one that cannot be parsed cannot be cut apart safely.
 */
export function parseHttpUrl(raw: string): { url: URL } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { problem: portOutOfRange(raw) ? 'has a port out of range (1 to 65535)' : 'is not a valid URL (such as https://host:9091)' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: 'must be an http:// or https:// URL' };
  if (url.hostname === '') return { problem: 'has no host' };
  if (url.port === '0') return { problem: 'has a port out of range (1 to 65535)' };
  return { url };
}

/** The URL as it may be shown: no user, password, query or fragment. */
export function shownUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** A URL's user and password as they are sent (percent-decoding undone); none without either. */
export function credentialsOf(url: URL): { user: string; password: string } | undefined {
  if (url.username === '' && url.password === '') return undefined;
  return { user: decoded(url.username), password: decoded(url.password) };
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Whether the authority's port is a number the parser refused (`http://host:99999`). */
function portOutOfRange(raw: string): boolean {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(raw.trim())?.[1] ?? '';
  const port = /:(\d+)$/.exec(authority.slice(authority.lastIndexOf('@') + 1))?.[1];
  return port !== undefined && Number(port) > 65535;
}
