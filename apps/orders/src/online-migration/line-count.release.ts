// The online migration the lab demonstrates: `orders.item_count` counts an order's LINES, not its items, so it is
// renamed to `line_count` on a busy table without downtime. A rename is the hard case of "add a NOT NULL column":
// the new column must be added, filled and constrained while the old one is still written and read.
//
// The application side of that change is a sequence of RELEASES. Each release says which of the two columns the
// orders service writes and which one it reads. In a cluster a release is a rolling deploy; in the lab one process
// cannot be redeployed without a gap, so the release is a row in `schema_release` that every orders instance follows
// within one poll (ORDERS_RELEASE_POLL_MS) and acknowledges in `schema_release_seen`: the same "every replica runs
// release N before step N+1 starts" barrier a deploy pipeline enforces.

/** The column being retired and the one replacing it. */
export type LineCountColumn = 'item_count' | 'line_count';

/** The releases, oldest first. */
export const LINE_COUNT_RELEASES = ['item-count', 'dual-write', 'read-line-count', 'line-count'] as const;
export type LineCountRelease = (typeof LINE_COUNT_RELEASES)[number];

/** The row of `schema_release` this rollout is recorded under. */
export const LINE_COUNT_ROLLOUT = 'orders.line_count';

interface ReleaseShape {
  writes: LineCountColumn[];
  reads: LineCountColumn;
  meaning: string;
}

const SHAPES: Record<LineCountRelease, ReleaseShape> = {
  'item-count': {
    writes: ['item_count'],
    reads: 'item_count',
    meaning: 'before the change: writes and reads item_count',
  },
  'dual-write': {
    writes: ['item_count', 'line_count'],
    reads: 'item_count',
    meaning: 'writes both columns, reads item_count',
  },
  'read-line-count': {
    writes: ['item_count', 'line_count'],
    reads: 'line_count',
    meaning: 'writes both columns, reads line_count',
  },
  'line-count': {
    writes: ['line_count'],
    reads: 'line_count',
    meaning: 'after the change: writes and reads line_count only',
  },
};

export function isLineCountRelease(value: unknown): value is LineCountRelease {
  return typeof value === 'string' && (LINE_COUNT_RELEASES as readonly string[]).includes(value);
}

/** The columns an order's line count is written to under this release. */
export function writtenColumns(release: LineCountRelease): LineCountColumn[] {
  return SHAPES[release].writes;
}

/** The column an order's line count is read from under this release. */
export function readColumn(release: LineCountRelease): LineCountColumn {
  return SHAPES[release].reads;
}

export function describeRelease(release: LineCountRelease): string {
  return SHAPES[release].meaning;
}

/** The INSERT of a new order under this release: $1 id, $2 customer, $3 status, $4 line count, $5 time. */
export function insertOrderSql(release: LineCountRelease): string {
  const columns = writtenColumns(release);
  return `INSERT INTO orders (id, customer_id, status, ${columns.join(', ')}, created_at, updated_at) VALUES ($1, $2, $3, ${columns.map(() => '$4').join(', ')}, $5, $5)`;
}
