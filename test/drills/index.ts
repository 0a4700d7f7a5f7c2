/** Every drill `npm run drill` knows, by name. Each drill adds itself here (one line). */
import type { Drill } from './drill.ts';
import { poisonDrill } from './poison.ts';
import { clickhouseKill } from './clickhouse-kill.ts';
import { redisLoss } from './redis-loss.ts';
import { gatewayKill } from './gateway-kill.ts';
import { diskFull } from './disk-full.ts';
import { kafkaLeaderLoss } from './kafka-leader-loss.ts';

export const drills: Drill[] = [
  poisonDrill,
  clickhouseKill,
  redisLoss,
  gatewayKill,
  diskFull,
  kafkaLeaderLoss,
];
