// Postgres LSNs ('16/B374D848') as bigints, so positions compare correctly (string comparison does not).

export function parseLsn(lsn: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (!match) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * pg-logical-replication's acknowledge(lsn) reports lsn + 1 as written/flushed/applied. Pass it this so the server
 * receives exactly `position` (a commit's end LSN, as pg_recvlogical and Debezium report), never a byte beyond.
 */
export function acknowledgeArgument(position: bigint): string {
  return formatLsn(position > 0n ? position - 1n : 0n);
}
