import { Type } from '@sinclair/typebox';
import { FieldIssue, containerEventTypes, laneEventTypes, truckEventTypes } from '@tower/shared';

export const AnyEvent = Type.Union([...truckEventTypes, ...containerEventTypes, ...laneEventTypes], {
  description: 'One event; `type` selects its schema. Truck events go to tower.trucks.v1, container events to tower.containers.v1, lane events to tower.lanes.v1.',
});

export const BatchResult = Type.Object({
  accepted: Type.Integer({ description: 'events acknowledged by Kafka (acks=all)' }),
  rejected: Type.Array(
    Type.Object({ index: Type.Integer({ description: 'position in the batch, from 0' }), eventId: Type.Optional(Type.String()), errors: Type.Array(FieldIssue) }),
    { description: 'events not accepted, each with every problem found' },
  ),
});
