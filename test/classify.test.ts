import { describe, expect, test } from '@jest/globals';
import { Backoff } from '../src/engine/backoff.js';
import { retryAfterMs } from '../src/exsited/responses.js';
import { classifyCheck, classifyDelete, classifyFailure } from '../src/exsited/orders.js';

const response = (status: number, data: unknown = '', headers: Record<string, string> = {}) => ({ status, statusText: '', headers, data });

describe('classifying answers', () => {
  test('a DELETE: 2xx is deleted, 404 already absent (said in JSON, as the API says it), anything else unfinished', () => {
    expect(classifyDelete(response(204))).toBe('deleted');
    expect(classifyDelete(response(200))).toBe('deleted');
    expect(classifyDelete(response(404, { errors: [{ code: 'NOT_FOUND' }] }))).toBe('already_absent');
    expect(classifyDelete(response(410, { errors: [] }))).toBe('already_absent');
    expect(classifyDelete(response(500))).toBeUndefined();
    // a gateway's JSON 404 (Kong's "no Route matched") is not the API's "not found" (second red team: recorded already_absent)
    expect(classifyDelete(response(404, { message: 'no Route matched with those values' }))).toBeUndefined();
    expect(classifyFailure(response(404, { message: 'no Route matched with those values' }))).toMatchObject({ code: 'NOT_THE_API', message: expect.stringMatching(/^HTTP 404 with a JSON body without the API's errors/) });
  });

  test('a DELETE answered by a page (a proxy\'s, a gateway\'s) is not the API\'s answer: its 200 is not deleted, its 404 not absent (red team: recorded so, a resume skipped them)', () => {
    const html = { 'content-type': 'text/html; charset=utf-8' };
    expect(classifyDelete(response(200, '<h1>Welcome to nginx!</h1>', html))).toBeUndefined();
    expect(classifyDelete(response(404, '<h1>404 Not Found</h1>', html))).toBeUndefined();
    expect(classifyDelete(response(410, '<h1>Gone</h1>', html))).toBeUndefined();
    expect(classifyDelete(response(404, '404 page not found', { 'content-type': 'text/plain' }))).toBeUndefined();
    expect(classifyDelete({ status: 200, headers: { ...html, 'content-length': '120' }, data: undefined })).toBeUndefined(); // its body cut off: the headers say a page
    // the API's answers, whatever a framework puts in Content-Type of an answer with no body
    expect(classifyDelete(response(204, '', html))).toBe('deleted');
    expect(classifyDelete(response(200, '', html))).toBe('deleted');
    expect(classifyDelete({ status: 200, headers: { ...html, 'content-length': '0' }, data: undefined })).toBe('deleted');
    expect(classifyDelete(response(200, {}, { 'content-type': 'application/json' }))).toBe('deleted');
    expect(classifyDelete(response(404, { errors: [] }, { 'content-type': 'application/problem+json' }))).toBe('already_absent');
    expect(classifyDelete(response(404, { errors: [] }, html))).toBe('already_absent'); // JSON, whatever its type said
    // the body decides when it came (second red team): a page untyped, or typed JSON, is a page still; an empty 404 is a gateway's "no route" as often
    for (const headers of [{}, { 'content-type': 'application/json' }] as Array<Record<string, string>>) {
      expect(classifyDelete(response(404, '<html>404</html>', headers))).toBeUndefined();
      expect(classifyDelete(response(200, '<html>hi</html>', headers))).toBeUndefined();
    }
    expect(classifyDelete(response(404, ''))).toBeUndefined();
    expect(classifyDelete(response(200, '\n'))).toBe('deleted');
    // a 2xx whose body never came whole (cut off, too big): the API's if said to be JSON, else unknown, and a DELETE again is safe
    expect(classifyDelete({ status: 200, headers: { 'content-length': '5000' }, data: undefined })).toBeUndefined();
    expect(classifyDelete({ status: 200, headers: { 'content-type': 'application/json', 'content-length': '5000' }, data: undefined })).toBe('deleted');
    // what axios parses as JSON out of a page's text is no JSON of the API's
    expect(classifyDelete(response(200, 1, html))).toBeUndefined();
    expect(classifyDelete(response(200, true, { 'content-type': 'text/plain' }))).toBeUndefined();
    // a 2xx carrying Exsited's errors, in whatever shape, is a refusal
    expect(classifyDelete(response(200, { errors: { code: 'LOCKED' } }))).toBeUndefined();
    expect(classifyDelete(response(200, { error: 'locked' }))).toBeUndefined();
    expect(classifyDelete(response(200, { errors: [{ code: 'LOCKED', message: 'order is locked' }] }))).toBeUndefined();
    expect(classifyFailure(response(200, { errors: [{ code: 'LOCKED', message: 'order is locked' }] }))).toEqual({ kind: 'failed', httpStatus: 200, code: 'LOCKED', message: 'order is locked' });
    // a failure said as what it is, final (a retry gets the same page), one cause whatever the status, never the HTML itself
    expect(classifyFailure(response(404, '<title>Not here</title><h1>404 Not Found</h1>', html))).toEqual({ kind: 'failed', httpStatus: 404, code: 'NOT_THE_API',
      message: "HTTP 404 with a text/html body, not the API's answer: a proxy or a gateway answered (check --base-url and HTTPS_PROXY)" });
    expect(classifyFailure(response(200, '<h1>hi</h1>', html))).toMatchObject({ kind: 'failed', code: 'NOT_THE_API' });
    expect(classifyFailure(response(404, ''))).toMatchObject({ kind: 'failed', code: 'NOT_THE_API', message: expect.stringMatching(/^HTTP 404 with no body, not the API's answer/) });
  });

  test('a dry run\'s GET of an order (issue 23, item 2): 200 with the order is there, 404 or 410 with JSON not found; a 200 without an order, or a 404 page (a proxy\'s, an empty body), is not understood', () => {
    expect(classifyCheck(response(200, { order: { id: 'ORD-1' } }))).toBe('would_delete');
    expect(classifyCheck(response(404, { errors: [{ code: 'NOT_FOUND' }] }))).toBe('already_absent');
    expect(classifyCheck(response(410, { errors: [] }))).toBe('already_absent');
    expect(classifyCheck(response(404, { message: 'no Route matched with those values' }))).toBeUndefined();
    // A proxy's 404 page (red team: a real order counted absent, and its dry run's resume called it finished).
    for (const data of ['<html><body>404 Not Found</body></html>', '']) expect(classifyCheck(response(404, data))).toBeUndefined();
    for (const data of ['<html>ok</html>', '', {}, { order: null }, { orders: [] }]) expect(classifyCheck(response(200, data))).toBeUndefined();
    expect(classifyCheck(response(204))).toBeUndefined();
    expect(classifyCheck(response(503))).toBeUndefined();
  });

  test.each([408, 429, 500, 502, 503, 504])('%i is retried', (status) => {
    expect(classifyFailure(response(status)).kind).toBe('retry');
  });

  test.each([400, 403, 405, 409, 422, 301, 302])('%i fails at once', (status) => {
    expect(classifyFailure(response(status)).kind).toBe('failed');
  });

  test('401 asks for a renewed token', () => {
    expect(classifyFailure(response(401)).kind).toBe('unauthorized');
  });

  test('a 2xx that could not be read is a failure, not a success', () => {
    expect(classifyFailure(response(200, 'not json'))).toMatchObject({ kind: 'failed', code: 'NOT_THE_API', message: expect.stringMatching(/^HTTP 200 with a body that is not JSON/) });
    expect(classifyFailure(response(200, { orders: 'none' }))).toMatchObject({ kind: 'failed', code: 'UNEXPECTED_RESPONSE' });
  });

  test("records Exsited's errors[] code and messages", () => {
    const result = classifyFailure(response(409, { errors: [{ code: 'ORDER_LOCKED', message: 'has invoices' }, { message: 'and payments' }] }));
    expect(result).toEqual({ kind: 'failed', httpStatus: 409, code: 'ORDER_LOCKED', message: 'has invoices; and payments' });
    expect(classifyFailure(response(400, 'bad request, plainly'))).toMatchObject({ code: 'NOT_THE_API', message: 'bad request, plainly' }); // Exsited's errors come in JSON
    // a page in words, never its HTML (second red team: raw HTML on the console, in the log and in a halt's reason)
    expect(classifyFailure(response(503, '<html><head><title>502 Bad Gateway</title></head><script>x</script></html>', { 'content-type': 'text/html' })))
      .toMatchObject({ code: 'HTTP_503', message: 'HTTP 503: a text/html body, "502 Bad Gateway"' });
    // a 4xx page (a firewall's 403) is final, one cause with the other pages (a proxy alternating 403 and 404 pages was never halted)
    expect(classifyFailure(response(403, '<html>blocked</html>'))).toMatchObject({ kind: 'failed', code: 'NOT_THE_API', message: 'HTTP 403: a body that is not JSON' });
    expect(classifyFailure(response(403, 'Error: <html><script>x</script></html>', { 'content-type': 'text/plain' }))).toMatchObject({ message: 'HTTP 403: a text/plain body' });
    expect(classifyFailure(response(415, '', { 'content-type': 'application/xml', 'content-length': '9' }))).toMatchObject({ code: 'HTTP_415' });
    expect(classifyFailure(response(403, {}))).toMatchObject({ code: 'HTTP_403', message: 'HTTP 403' });
  });

  test('a 429 carries its Retry-After', () => {
    expect(classifyFailure(response(429, '', { 'retry-after': '7' }))).toMatchObject({ kind: 'retry', retryAfterMs: 7000 });
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-11-27T10:00:00Z');
  test('seconds or an HTTP date, in milliseconds', () => {
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
    expect(retryAfterMs('Fri, 27 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Fri, 27 Nov 2026 09:00:00 GMT', now)).toBe(0);
  });
  test('absent or unreadable is undefined', () => {
    for (const value of [undefined, '', 'soon', '-5', '1.5']) expect(retryAfterMs(value, now)).toBeUndefined();
  });
});

describe('full-jitter backoff', () => {
  test('uniform up to min(cap, base·2^(n-1))', () => {
    const top = new Backoff({ retries: 5, baseMs: 100, capMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5].map((n) => top.delayMs(n))).toEqual([100, 200, 400, 800, 1000]);
    const bottom = new Backoff({ retries: 5, baseMs: 100, capMs: 1000, random: () => 0 });
    expect(bottom.delayMs(4)).toBe(0);
  });
  test('a Retry-After is the wait, never less, and at most a tenth more (spread); the backoff does not pile on top of it', () => {
    const backoff = new Backoff({ retries: 5, baseMs: 1000, capMs: 30_000, random: () => 0.5 });
    expect(backoff.delayMs(1, 5000)).toBe(5250);
    expect(backoff.delayMs(4, 1000)).toBe(1050); // the backoff alone would be 4 s
    const top = new Backoff({ retries: 5, baseMs: 1000, capMs: 30_000, random: () => 0.999999 });
    expect(top.delayMs(1, 1000)).toBe(1100);
    const bottom = new Backoff({ retries: 5, baseMs: 1000, capMs: 30_000, random: () => 0 });
    expect(bottom.delayMs(1, 1000)).toBe(1000);
  });
});
