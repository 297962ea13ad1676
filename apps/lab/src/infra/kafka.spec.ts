import { newKafkaClusterId } from './kafka';

describe('newKafkaClusterId', () => {
  it('makes 22-character URL-safe ids that never start with "-" (the storage tool would take it for an option)', () => {
    const ids = Array.from({ length: 5000 }, () => newKafkaClusterId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
