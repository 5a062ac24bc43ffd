import { DomainEntity } from './domain.entity';
import { DomainEventEntity, DomainSequenceEntity } from './domain-event.entity';
import { RevisionEntity } from './revision.entity';

export { DomainEntity, DomainEventEntity, DomainSequenceEntity, RevisionEntity };
export type { DomainEventOp } from './domain-event.entity';

export const ENTITIES = [RevisionEntity, DomainEntity, DomainEventEntity, DomainSequenceEntity];
