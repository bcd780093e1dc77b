// npm run schemas: the JSON Schemas of the tool's JSON outputs, made from their zod schemas, for the scripts
// that read them: --summary-json and report --json (src/common/summary-json.ts), report <folder> --json
// (src/common/history-json.ts). test/summary-json.test.ts and test/history.test.ts keep each equal to its file.
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { historyJsonSchema } from '../dist/common/history-json.js';
import { summaryJsonSchema } from '../dist/common/summary-json.js';

const write = (file, schema, title) => writeFileSync(`schemas/${file}`, `${JSON.stringify({ ...z.toJSONSchema(schema), title }, null, 2)}\n`);
write('summary-json.schema.json', summaryJsonSchema, 'exsited-order-cleanup --summary-json');
write('history-json.schema.json', historyJsonSchema, 'exsited-order-cleanup report <folder> --json');
