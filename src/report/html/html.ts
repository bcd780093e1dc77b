import { scrubbedSafe } from '../../common/text.js';

/**
 * Markup the page's own code wrote. Only `html` and `raw` make one, so an `Html` is never text from a
 * log or a server: the private field makes the type nominal (an object of the same shape is not one),
 * and `html` checks `instanceof` (a look-alike is escaped as text).
 */
class Html {
  readonly #markup: string;

  constructor(markup: string) {
    this.#markup = markup;
  }

  toString(): string {
    return this.#markup;
  }
}
export type { Html };

/** What a template takes: markup, text, a number, a list of them; nothing for a missing or false one. */
export type Interpolation = Html | string | number | false | null | undefined | readonly Interpolation[];

/**
 * Markup with every interpolated value escaped as text, unless it is `Html` already (templates nest). The
 * escape serves text and double-quoted attribute values alike; every attribute the page writes is quoted.
 * Secrets are scrubbed first: once escaped, a secret holding `&`, `<` or `"` no longer looks like itself
 * to the scrub the whole page goes through when it is written.
 */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let markup = strings[0] as string;
  values.forEach((value, i) => {
    markup += render(value) + (strings[i + 1] as string);
  });
  return new Html(markup);
}

/**
 * Markup taken as it is. Only for markup this program itself holds (its own style sheet), never for text
 * that came from a log, a file or a server: each use says why it is safe.
 */
export const raw = (markup: string): Html => new Html(markup);

/** `values` one after another, `separator` between them: `join(logs, html\`<br>\`)`. */
export const join = (values: readonly Interpolation[], separator: Interpolation): Html =>
  new Html(values.map(render).join(render(separator)));

function render(value: Interpolation): string {
  if (value instanceof Html) return value.toString();
  if (value === undefined || value === null || value === false) return '';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map(render).join('');
  // Anything else is text, whatever it claims to be: an object that only looks like Html too.
  // Control and bidi characters (a server's ESC, BEL, U+202E) are shown as their escapes, as on the console.
  return scrubbedSafe(String(value)).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
