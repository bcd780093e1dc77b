// node bench/scrub.mjs (after npm run build): the scrubber's cost per line, the hot path every audit and
// console line takes. Registered as a long run has them: a client secret, a client ID and a proxy's
// password, and 50 renewed tokens (the fake's shape, `at-` and 32 hex digits) — then 500, as three weeks
// of hourly renewals leave them. Prints ns per line for typical audit lines, long server messages, and
// lines with escapes (`\"`, `%`, `&`): CPU time, which other work on a shared machine moves less than the clock.
// `node bench/scrub.mjs path/to/secrets.js` measures another build of the module (an earlier one, compiled apart).
const { SecretScrubber } = await import(process.argv[2] ? new URL(process.argv[2], `file://${process.cwd()}/`).href : '../dist/common/secrets.js');

const LINES = 100_000;
const ROUNDS = 5;

function scrubberWith(tokens) {
  const scrubber = new SecretScrubber();
  scrubber.register('Zk9/Qx+7b!W1(pT0)vH*aF3e');
  scrubber.register('exsited-client-0001', { parts: false }); // as config/resolve registers the client ID
  scrubber.registerUrl(new URL('http://proxy-user:Pr0xy-pa55w0rd-42@127.0.0.1:3128'));
  for (let i = 0; i < tokens; i++) scrubber.register(`at-${(0x9e3779b9 * (i + 1)).toString(16).padStart(8, '0').repeat(4)}`);
  return scrubber;
}

const time = (i) => new Date(Date.UTC(2026, 10, 28, 10, 0, 0, i)).toISOString();
const orderId = (i) => `ORD-KZ558V-${String(i).padStart(4, '0')}`;
const typical = (i) =>
  `{"level":"info","time":"${time(i)}","runId":"01JDQ2Z3M4N5P6Q7R8S9T0V1W2","event":"order","orderId":"${orderId(i)}","outcome":"deleted","httpStatus":204,"attempts":1,"durationMs":12,"msg":"order deleted"}`;
const cases = [
  ['typical audit line', 50, typical],
  ['failed order, 1 KB server message', 50, (i) =>
    `{"level":"warn","time":"${time(i)}","runId":"01JDQ2Z3M4N5P6Q7R8S9T0V1W2","event":"order","orderId":"${orderId(i)}","outcome":"failed","httpStatus":409,"attempts":1,"durationMs":40,"error":{"code":"HTTP_409","message":"${'order has invoices and cannot be deleted; '.repeat(24)}"},"msg":"order failed"}`],
  ['line with escapes (\\", %, &)', 50, (i) =>
    `{"level":"warn","time":"${time(i)}","event":"order","orderId":"${orderId(i)}","error":{"message":"the \\"reason\\" is 100% R&D's: see https://x.test/a?b=c%20d&e=f"},"msg":"order failed"}`],
  ['typical audit line', 500, typical],
];

for (const [kind, tokens, make] of cases) {
  const scrubber = scrubberWith(tokens);
  const lines = Array.from({ length: LINES }, (_, i) => make(i));
  let redacted = 0;
  for (const line of lines) if (scrubber.scrub(line) !== line) redacted++; // warm-up, and the check that nothing ordinary is redacted
  const perLine = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    for (const line of lines) scrubber.scrub(line);
    const { user, system } = process.cpuUsage(start);
    perLine.push(((user + system) * 1000) / LINES);
  }
  perLine.sort((a, b) => a - b);
  console.log(`${kind} (${lines[0].length} chars), ${tokens} tokens: median ${perLine[ROUNDS >> 1].toFixed(0)} ns per line, best ${perLine[0].toFixed(0)}; ${redacted} of ${LINES} lines changed`);
}
