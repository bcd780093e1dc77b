// npm run schemas: schemas/summary-json.schema.json made from the zod schema of --summary-json
// (src/common/summary-json.ts), for the scripts that read it. test/summary-json.test.ts keeps the two equal.
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { summaryJsonSchema } from '../dist/common/summary-json.js';

const schema = {
  ...z.toJSONSchema(summaryJsonSchema),
  title: 'exsited-order-cleanup --summary-json',
};
writeFileSync('schemas/summary-json.schema.json', `${JSON.stringify(schema, null, 2)}\n`);
