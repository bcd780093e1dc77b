/** proxy-from-env ships no types; this is the one function the tool uses. */
declare module 'proxy-from-env' {
  /** The proxy URL that HTTP(S)_PROXY / NO_PROXY choose for `url`, or '' for none. */
  export function getProxyForUrl(url: string): string;
}
