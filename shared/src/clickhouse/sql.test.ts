import { describe, expect, it } from 'vitest';
import { SqlValueError, identifier, integerLiteral, sql, sqlIdentifier, sqlJoin, stringLiteral, viewSelectOver } from './sql.ts';

describe('sql rendering', () => {
  it('accepts plain identifiers only', () => {
    expect(identifier('tower_1')).toBe('tower_1');
    for (const bad of ['', '1abc', 'a-b', 'a;DROP', 'a b', 'x'.repeat(64), '`a`']) {
      expect(() => identifier(bad), bad).toThrow(SqlValueError);
    }
  });

  it('escapes quotes, backslashes and control characters in strings', () => {
    expect(stringLiteral("Bắc Luân II")).toBe("'Bắc Luân II'");
    expect(stringLiteral("it's")).toBe("'it\\'s'");
    expect(stringLiteral('a\\b')).toBe("'a\\\\b'");
    expect(stringLiteral("\\'; DROP TABLE x; --")).toBe("'\\\\\\'; DROP TABLE x; --'");
    expect(stringLiteral('line\nbreak\0')).toBe("'line\\nbreak\\0'");
  });

  it('renders only safe integers', () => {
    expect(integerLiteral(42)).toBe('42');
    expect(integerLiteral(2n ** 63n)).toBe('9223372036854775808');
    expect(() => integerLiteral(1.5)).toThrow(SqlValueError);
    expect(() => integerLiteral(Number.NaN)).toThrow(SqlValueError);
  });

  it('renders every value of a sql template as a literal and inserts fragments as they are', () => {
    const lanes = ['bl2-smart-ex-1', "x' OR 1=1"];
    const filter = sqlJoin([sql`site = ${'bac-luan-2'}`, sql`lane IN ${lanes}`, sql`observed_ms >= ${1_795_000_000_000}`], ' AND ');
    expect(sql`SELECT count() FROM ${sqlIdentifier('truck_events')} WHERE ${filter} AND flag = ${true}`.text).toBe(
      "SELECT count() FROM truck_events WHERE site = 'bac-luan-2' AND lane IN ('bl2-smart-ex-1', 'x\\' OR 1=1') AND observed_ms >= 1795000000000 AND flag = 1",
    );
    expect(() => sql`lane IN ${[]}`).toThrow(SqlValueError);
    expect(() => sql`x = ${0.5}`).toThrow(SqlValueError);
    expect(() => sqlJoin([], '; DROP')).toThrow(SqlValueError);
  });

  it("reads a materialized view's SELECT over filtered source rows, as 18.16 and current releases print the view", () => {
    const select = "SELECT toStartOfMinute(observed_at) AS window_start, site, lane, direction, sumState(toUInt64(1)) AS people FROM tower.lane_events";
    const rest = " WHERE type = 'lane.person-crossed' GROUP BY window_start, site, lane, direction";
    // system.tables.create_table_query of 18.16.1 (two spaces before WHERE) and of 26.9 (backquoted columns).
    const v18 = `CREATE MATERIALIZED VIEW tower.people_1m_from_lane_events TO tower.people_1m ( window_start DateTime('UTC'),  people AggregateFunction(sum, UInt64)) AS ${select} ${rest}`;
    const v26 = `CREATE MATERIALIZED VIEW tower.people_1m_from_lane_events TO tower.people_1m (\`window_start\` DateTime('UTC'), \`people\` AggregateFunction(sum, UInt64)) AS ${select}${rest}`;
    const filter = sql`site = ${'bac-luan-1'}`;
    expect(viewSelectOver(v18, filter).text).toBe(`${select.replace('FROM tower.lane_events', "FROM (SELECT * FROM tower.lane_events WHERE site = 'bac-luan-1')")} ${rest}`);
    expect(viewSelectOver(v26, filter).text).toBe(`${select.replace('FROM tower.lane_events', "FROM (SELECT * FROM tower.lane_events WHERE site = 'bac-luan-1')")}${rest}`);
    expect(viewSelectOver(`${v26.replace(rest, '')}`, filter).text).toMatch(/FROM \(SELECT \* FROM tower\.lane_events WHERE site = 'bac-luan-1'\)$/);
    expect(() => viewSelectOver('CREATE TABLE t (a UInt8) ENGINE = Memory AS SELECT 1 FROM x', filter)).toThrow(SqlValueError);
    expect(() => viewSelectOver('SELECT 1', filter)).toThrow(SqlValueError);
  });
});
