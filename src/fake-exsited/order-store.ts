import { readTextFile } from '../common/files.js';
import { seededRandom } from './seeded-random.js';

/** An order as Exsited lists it (snake_case on the wire); the fields the API facts name. */
export interface FakeOrder {
  id: string;
  uuid: string;
  version: string;
  status: string;
  account_id: string;
  name: string;
  display_name: string;
  description: string;
  origin: string;
  created_by: string;
  created_on: string;
  last_updated_by: string;
  last_updated_on: string;
  currency: { uuid: string; name: string; link: string };
  total: string;
  custom_attributes: Array<{ name: string; value: string }>;
  lines: unknown[];
  pre_order: boolean;
  quote_order: boolean;
}

const ACCOUNTS = ['KZ558V', 'Y1B8-000', 'QA-ACME-01', 'N7T2PX', 'DEMO-0042', 'H3-LAB-9'];
const CREATORS = ['qa-bot', 'csv-loader', 'jane.doe@example.com', 'release-pipeline', 'sam.lee@example.com'];
const STATUSES = ['ACTIVE', 'ACTIVE', 'ACTIVE', 'DRAFT', 'CANCELLED'];
const PRODUCTS = ['Gold Plan', 'Starter Plan', 'Support Hours', 'Hardware Kit', 'Annual Licence'];
const YEAR_MS = 365 * 24 * 3600 * 1000;
const SEED_EPOCH = Date.parse('2026-11-01T00:00:00Z');

/**
 * `count` realistic orders from a seed: IDs of the `ORD-<account>-<seq>` shape (account IDs with hyphens
 * among them) plus custom import IDs, a mix of statuses, creators, origins and test markers, created over
 * the year before November 2026.
 */
export function generateOrders(count: number, seed = 1): FakeOrder[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const sequences = new Map<string, number>();
  const orders: FakeOrder[] = [];
  for (let i = 0; i < count; i++) {
    const account = pick(ACCOUNTS);
    const imported = random() < 0.2;
    const seq = (sequences.get(account) ?? 0) + 1;
    sequences.set(account, seq);
    const id = imported ? `CSV-ORD-${String(i + 1).padStart(6, '0')}` : `ORD-${account}-${String(seq).padStart(4, '0')}`;
    const created = new Date(SEED_EPOCH - Math.floor(random() * YEAR_MS));
    const updated = new Date(created.getTime() + Math.floor(random() * 30 * 24 * 3600 * 1000));
    const creator = imported ? 'csv-loader' : pick(CREATORS);
    const isTest = creator === 'qa-bot' || creator === 'csv-loader' || random() < 0.2;
    const product = pick(PRODUCTS);
    orders.push({
      id,
      uuid: uuidFrom(random),
      version: String(1 + Math.floor(random() * 4)),
      status: pick(STATUSES),
      account_id: account,
      name: `${isTest ? 'QA ' : ''}${product}`,
      display_name: `${product} for ${account}`,
      description: isTest ? 'Created by automated tests' : '',
      origin: imported ? `CSV IMPORT - ${1 + Math.floor(random() * 9)}` : '',
      created_by: creator,
      created_on: created.toISOString(),
      last_updated_by: creator,
      last_updated_on: updated.toISOString(),
      currency: { uuid: uuidFrom(random), name: 'AUD', link: '' },
      total: (random() * 5000).toFixed(2),
      custom_attributes: [{ name: 'test_data', value: isTest ? 'yes' : 'no' }],
      lines: [],
      pre_order: false,
      quote_order: random() < 0.1,
    });
  }
  return orders;
}

/** A seed file this large is not one (and /dev/zero never ends). */
const MAX_ORDERS_FILE_BYTES = 256 * 1024 * 1024;

/**
 * `--orders 500` generates that many; `--orders path.json` loads an array of orders (or `{orders: [...]}`),
 * from a pipe too (`--orders <(jq …)`) without blocking the process.
 */
export async function loadOrders(spec: string, seed = 1): Promise<FakeOrder[]> {
  if (/^\d+$/.test(spec)) return generateOrders(Number(spec), seed);
  const data = JSON.parse(await readTextFile(spec, MAX_ORDERS_FILE_BYTES, 'a list of orders')) as FakeOrder[] | { orders: FakeOrder[] };
  return Array.isArray(data) ? data : data.orders;
}

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
