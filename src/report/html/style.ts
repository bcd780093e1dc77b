import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { html, raw } from './html.js';

const SHEET = readFileSync(new URL('./style.css', import.meta.url), 'utf8');

/** The pages' style sheet (the run's and the history's): this program's own file, never a log's text, so taken as it is. */
export const STYLE = raw(SHEET);
/** The pages allow their own style sheet and nothing else: no script, no request, whatever a log holds. */
export const STYLE_SOURCE = html`'sha256-${createHash('sha256').update(SHEET).digest('base64')}'`;
