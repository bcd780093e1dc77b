/** The bench's order IDs: ORD-BENCH-0000001 … */
export const benchIds = (count, from = 1) => Array.from({ length: count }, (_, i) => `ORD-BENCH-${String(from + i).padStart(7, '0')}`);
