/** For the cluster's integration tests: the slots processes a primary forked, as /proc shows them. */
import fs from 'node:fs';

/** The service's processes under the primary: pid, role and place (1…N for API processes), from /proc. */
export function processesOf(primary: number): { pid: number; role: string; index: string }[] {
  return fs.readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== primary) return [];
      const env = new Map(fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const));
      const role = env.get('SLOTS_PROCESS_ROLE');
      // Others (tsx's esbuild) have no role.
      return role ? [{ pid: Number(entry), role, index: env.get('SLOTS_PROCESS_INDEX') ?? '' }] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
}
