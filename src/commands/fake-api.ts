import type { Command } from 'commander';
import { usageError } from '../common/errors.js';
import { describeFileError } from '../common/files.js';
import { prepareOutputFile, writeOutputFile } from '../common/output-files.js';
import { FAKE_API_OPTIONS, resolveFlags } from '../config/command-options.js';
import type { FakeOrder } from '../fake-exsited/order-store.js';
import { addOptions } from './flags.js';
import type { Session } from './session.js';

/** `fake-api`: the fake Exsited API served on loopback until SIGINT or SIGTERM, for trying the tool by hand. */
export function addFakeApiCommand(program: Command, session: Session): void {
  const command = program
    .command('fake-api')
    .description('serve a fake Exsited API on loopback, for trying the tool and for tests')
    .showHelpAfterError("See 'exsited-order-cleanup fake-api --help'.");
  addOptions(command, FAKE_API_OPTIONS).action(async (given: Record<string, unknown>) => {
    const flags = resolveFlags('fake-api', FAKE_API_OPTIONS, given);
    const [{ loadOrders }, { DEMO_CLIENT, startFakeExsited }] = await Promise.all([import('../fake-exsited/order-store.js'), import('../fake-exsited/server.js')]);
    let orders: FakeOrder[];
    try {
      orders = await loadOrders(flags.orders, flags.seed);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw usageError(`fake-api: --orders ${flags.orders}: ${code ? describeFileError(error) : (error as Error).message}`);
    }
    if (flags.writeIds) {
      const { refuseCollisions } = await import('../guards/file-roles.js');
      refuseCollisions([{ what: 'fake-api: --orders', path: /^\d+$/.test(flags.orders) ? '' : flags.orders, output: false },
        { what: 'fake-api: --write-ids', path: flags.writeIds, output: true }], 'nothing was written');
      prepareOutputFile(flags.writeIds, 'fake-api: --write-ids');
    }
    const fake = await startFakeExsited({
      orders, port: flags.port, host: flags.host, tokenTtlS: flags.tokenTtl, oneLiveToken: flags.oneLiveToken,
      faults: { ...flags.faults, seed: flags.seed, latencyMs: flags.latencyMs, retryAfterS: flags.retryAfter },
      ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.outage ? { outage: flags.outage } : {}),
    });
    try {
      if (flags.writeIds) await writeOutputFile(flags.writeIds, `order_id\n${orders.map((order) => order.id).join('\n')}\n`);
    } catch (error) {
      await fake.close();
      throw usageError(`fake-api: --write-ids ${flags.writeIds} could not be written: ${describeFileError(error)}`);
    }
    session.console.print(`Fake Exsited API on ${fake.url} with ${fake.orders.size} orders. Use it with:
  export EXSITED_BASE_URL=${fake.url} EXSITED_CLIENT_ID=${DEMO_CLIENT.clientId} EXSITED_CLIENT_SECRET=${DEMO_CLIENT.clientSecret} EXSITED_REDIRECT_URI=${DEMO_CLIENT.redirectUri}
${flags.writeIds ? `Its order IDs are in ${flags.writeIds}; with that export, try:\n  ${session.io.command} run --ids ${flags.writeIds} --dry-run\n` : ''}State: GET ${fake.url}/__fake/state. Stop with Ctrl-C.`);
    // Serves until SIGINT or SIGTERM.
    await new Promise<void>((resolve) => {
      const stop = () => void fake.close().then(resolve);
      (session.io.signals ?? process).once('SIGINT', stop).once('SIGTERM', stop);
    });
  });
}
