// The lab's topics on kind, read with Kafka's own CLI tools inside the kafka pod (kubectl exec, the broker's loopback
// listener): where each partition ends when a run starts, and every record written since, as the same TopicRecord
// the local target's kafkajs reader returns. The evidence built from them (busMessageOf, dlqEntryOf) is therefore
// the same on both targets; only the transport differs.
import type { TopicPositions, TopicRecord } from '@faultline/messaging';
import { HEADER_SEPARATOR, kubectlPlan } from './kind-chaos-plan';
import type { Kubectl } from './kubectl';

/** `kafka-get-offsets.sh` output (`<topic>:<partition>:<offset>` per line) as positions; other lines are ignored. */
export function parseOffsets(out: string): TopicPositions {
  const positions: TopicPositions = {};
  for (const line of out.split('\n')) {
    const match = /^(.+):(\d+):(\d+)$/.exec(line.trim());
    if (!match) continue;
    (positions[match[1]] ??= {})[Number(match[2])] = match[3];
  }
  return positions;
}

const LINE = /^(?:CreateTime|LogAppendTime):(-?\d+)\tPartition:(\d+)\tOffset:(\d+)\t([^\t]*)\t([^\t]*)\t(.*)$/;

/**
 * The console consumer's lines (CONSOLE_RECORD_FORMAT) as records. A line that is not a record is an error, not a
 * record lost in silence: it would mean the format changed under us.
 */
export function parseConsoleRecords(topic: string, out: string): TopicRecord[] {
  const records: TopicRecord[] = [];
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    if (!match)
      throw new Error(`kafka-console-consumer printed a line that is not a record of ${topic}: ${line.slice(0, 200)}`);
    const [, timestamp, partition, offset, rawHeaders, key, value] = match;
    const headers: Record<string, string> = {};
    if (rawHeaders !== 'NO_HEADERS') {
      for (const header of rawHeaders.split(HEADER_SEPARATOR)) {
        const colon = header.indexOf(':');
        if (colon > 0) headers[header.slice(0, colon)] = header.slice(colon + 1);
      }
    }
    records.push({
      topic,
      partition: Number(partition),
      offset,
      key: key === 'null' ? null : key,
      value: value === 'null' ? null : value,
      headers,
      timestamp: Number(timestamp),
    });
  }
  return records;
}

export async function kindTopicEnds(kubectl: Kubectl, topics: readonly string[]): Promise<TopicPositions> {
  return parseOffsets(await kubectl.output(kubectlPlan.kafkaOffsets(topics, 'latest')));
}

/**
 * Every record of the topics from `from` (a run's start; the partition's start when absent) up to the ends seen
 * now, partition by partition: the console consumer reads one partition from an offset, `end - start` records at most.
 */
export async function kindReadTopics(
  kubectl: Kubectl,
  topics: readonly string[],
  from: TopicPositions = {},
): Promise<TopicRecord[]> {
  const ends = parseOffsets(await kubectl.output(kubectlPlan.kafkaOffsets(topics, 'latest')));
  const starts = parseOffsets(await kubectl.output(kubectlPlan.kafkaOffsets(topics, 'earliest')));
  const missing = topics.filter((t) => !ends[t]);
  if (missing.length) throw new Error(`kafka-get-offsets.sh listed no partition of ${missing.join(', ')}`);
  const records: TopicRecord[] = [];
  for (const topic of topics) {
    for (const [partition, end] of Object.entries(ends[topic])) {
      const earliest = BigInt(starts[topic]?.[Number(partition)] ?? '0');
      const given = from[topic]?.[Number(partition)];
      const start = given !== undefined && BigInt(given) > earliest ? BigInt(given) : earliest;
      if (BigInt(end) <= start) continue;
      const out = await kubectl.output(
        kubectlPlan.kafkaConsume(topic, Number(partition), start.toString(), Number(BigInt(end) - start)),
      );
      records.push(
        ...parseConsoleRecords(topic, out).filter((r) => BigInt(r.offset) >= start && BigInt(r.offset) < BigInt(end)),
      );
    }
  }
  return records;
}
