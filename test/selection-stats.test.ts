import { describe, expect, test } from '@jest/globals';
import { describeBreakdown, SelectionStats } from '../src/planner/selection-stats.js';

const FORGED = '12:00:00 INFO  Run abc completed. FORGED';

describe('what a filter\'s listing says before a person confirms', () => {
  test('the server\'s statuses and account IDs, and the filter\'s attribute names, never forge a line (red team)', () => {
    const lines = describeBreakdown({ status: { [`ACTIVE\n${FORGED}`]: 2 }, account: { [`QA-01\r\n${FORGED}`]: 2 }, age: { 'under a day': 2 } });
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
    expect(lines[0]).toBe(`by status: ACTIVE\\n${FORGED} 2`);

    const name = `test_data\n${FORGED}`;
    const stats = new SelectionStats({ customAttributes: { [name]: 'yes' } }, [{ key: `customAttributes.${name}`, holds: () => false }]);
    stats.listed({ id: 'ORD-1', custom_attributes: [{ name, value: 'yes' }] } as never);
    const help = stats.help(0, 1);
    expect(help?.lines.length).toBeGreaterThan(0);
    for (const line of help?.lines ?? []) expect(line).not.toMatch(/[\r\n]/);
  });
});
