import { describe, expect, it } from 'vitest';
import { ConflictProblem, DependencyUnavailableProblem, InternalProblem, ValidationProblem, classifyError, clickHouseErrorCode } from './errors.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('classifyError', () => {
  it('reads ClickHouse codes from current servers (parsed by the client) and from 18.16 (only in the message)', () => {
    expect(clickHouseErrorCode(withCode('Unsigned type must not contain', '72'))).toBe('72');
    expect(clickHouseErrorCode(new Error("Code: 72, e.displayText() = DB::Exception: Unsigned type must not contain '-' symbol"))).toBe('72');
    expect(clickHouseErrorCode(withCode('connect ECONNREFUSED 127.0.0.1:18123', 'ECONNREFUSED'))).toBeUndefined();
  });

  it('data ClickHouse refuses is permanent; a busy, full or unreachable ClickHouse is transient; other codes unknown', () => {
    expect(classifyError(new Error('Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected , before: e20'))).toBe('permanent');
    expect(classifyError(withCode('Type mismatch', '53'))).toBe('permanent');
    expect(classifyError(withCode('Too many parts (300). Merges are processing significantly slower than inserts', '252'))).toBe('transient');
    expect(classifyError(withCode('Memory limit (for query) exceeded', '241'))).toBe('transient');
    expect(classifyError(new Error('Code: 159, e.displayText() = DB::Exception: Timeout exceeded'))).toBe('transient');
    expect(classifyError(withCode('connect ECONNREFUSED 127.0.0.1:18123', 'ECONNREFUSED'))).toBe('transient');
    expect(classifyError(new Error('socket hang up'))).toBe('transient');
    expect(classifyError(withCode('Table default.x does not exist', '60'))).toBe('unknown');
  });

  it('a full disk is transient, in the words of every server: 18.16 (Code 75 with errno 28), current ClickHouse (Code 243), a full quota, a local write', () => {
    // The texts the drill disk-full met (test/drills/disk-full.ts): 18.16 on a full tmpfs, chDB (current) on the same.
    expect(classifyError(new Error('Code: 75, e.displayText() = DB::ErrnoException: Cannot write to file /data/drill/truck_events/tmp_insert_201811_1_1_0/primary.idx, errno: 28, strerror: No space left on device, e.what() = DB::ErrnoException'))).toBe('transient');
    expect(classifyError(withCode('Cannot reserve 1.99 MiB, not enough space. (NOT_ENOUGH_SPACE)', '243'))).toBe('transient');
    expect(classifyError(new Error('Code: 76, e.displayText() = DB::ErrnoException: Cannot open file /data/drill/t/tmp_insert_all_2_2_0/x.bin, errno: 122, strerror: Disk quota exceeded'))).toBe('transient');
    expect(classifyError(withCode("ENOSPC: no space left on device, write", 'ENOSPC'))).toBe('transient');
    // A code 75 is not always a full disk, but always the server's own write failing: never the data's fault.
    expect(classifyError(new Error('Code: 75, e.displayText() = DB::ErrnoException: Cannot write to file /data/x.bin, errno: 5, strerror: Input/output error'))).toBe('transient');
    // Data refused stays permanent when it quotes those words.
    expect(classifyError(new Error("Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected , before: No space left on device'}"))).toBe('permanent');
  });

  it('typed problems by isRetriable and status; Kafka errors by their retriable flag; anything else unknown', () => {
    expect(classifyError(new DependencyUnavailableProblem('redis', 'Redis did not answer'))).toBe('transient');
    expect(classifyError(new ValidationProblem([{ field: '/lane', reason: 'unknown lane' }]))).toBe('permanent');
    expect(classifyError(new ConflictProblem('already checked in'))).toBe('permanent');
    expect(classifyError(new InternalProblem('bug'))).toBe('unknown');
    expect(classifyError(Object.assign(new Error('The group is rebalancing'), { retriable: true }))).toBe('transient');
    expect(classifyError(new Error('Cannot read properties of undefined'))).toBe('unknown');
    expect(classifyError('a string')).toBe('unknown');
  });

  it('an error that says it is retriable is transient, whatever ClickHouse code its message quotes (the aggregator\'s RepairFailed wraps the repair\'s error)', () => {
    const repairFailed = (cause: string) => Object.assign(new Error(`repairing the aggregates failed: ${cause}`), { retriable: true });
    expect(classifyError(repairFailed('Code: 53, e.displayText() = DB::Exception: Type mismatch in IN or VALUES section'))).toBe('transient');
    expect(classifyError(repairFailed('Code: 60, e.displayText() = DB::Exception: Table drill.throughput_1m does not exist'))).toBe('transient');
  });
});
