import { Option, type Command } from 'commander';
import { humanDuration } from '../common/durations.js';
import type { FlagSpec } from '../config/command-options.js';
import { GROUPS, type OptionSpec } from '../config/options.js';

/**
 * A table's option as commander's: no default held (the resolver knows which flags were given and fills
 * the defaults), every value taken as text and checked by the table's value, help grouped.
 */
function commanderOption(spec: OptionSpec<unknown> | FlagSpec<unknown>): Option | undefined {
  if (!spec.flag) return undefined;
  const { value } = spec;
  const shown = 'shownDefault' in spec && spec.shownDefault !== undefined ? spec.shownDefault
    : spec.default === undefined || spec.default === false || (Array.isArray(spec.default) && spec.default.length === 0) ? ''
      // A flag in milliseconds (--timeout-ms) shows its default as a person reads it too: `30000 = 30 s`.
      : spec.flag.endsWith('-ms') && typeof spec.default === 'number' ? `${value.show(spec.default)} = ${humanDuration(spec.default)}` : value.show(spec.default);
  const env = 'env' in spec && spec.env ? ` [${spec.env}]` : '';
  const option = new Option(value.placeholder ? `${spec.flag} ${value.placeholder}` : spec.flag, `${spec.help}${shown ? ` (default: ${shown})` : ''}${env}`);
  if ('group' in spec) option.helpGroup(`${GROUPS[spec.group]}:`);
  if ('required' in spec && spec.required) option.makeOptionMandatory();
  if (value.choices) option.choices(value.choices);
  if (value.merges) option.argParser((item: string, previous: string[] = []) => [...previous, item]);
  return option;
}

/** Adds every option of a table to a command. */
export function addOptions(command: Command, table: Record<string, OptionSpec<unknown> | FlagSpec<unknown>>): Command {
  for (const spec of Object.values(table)) {
    const option = commanderOption(spec);
    if (option) command.addOption(option);
  }
  return command;
}
