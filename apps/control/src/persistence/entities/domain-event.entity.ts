import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type DomainEventOp = 'upsert' | 'delete';

const bigintAsNumber = {
  to: (value: number) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * The gap-free log of dynamic domain changes. `seq` comes from `domain_sequence` inside the
 * same statement as the change, so a failed change never leaves a hole (a PostgreSQL
 * SEQUENCE would). Rows are written once: what has reached Redis is one cursor,
 * `domain_sequence.pushed_seq`, not a column per event.
 */
@Entity({ name: 'domain_events' })
export class DomainEventEntity {
  @PrimaryColumn({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;

  @Column({ type: 'text' })
  op!: DomainEventOp;

  @Column({ type: 'text' })
  domain!: string;

  @Column({ name: 'host_type', type: 'text', nullable: true })
  hostType!: string | null;

  @Column({ type: 'boolean', nullable: true })
  enabled!: boolean | null;

  @Column({ type: 'text' })
  author!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** Single row: the counter behind `domain_events.seq`, and the outbox cursor. */
@Entity({ name: 'domain_sequence' })
export class DomainSequenceEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  /** The last seq handed out. */
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;

  /** Every event up to this seq has been pushed to Redis. */
  @Column({ name: 'pushed_seq', type: 'bigint', transformer: bigintAsNumber, default: 0 })
  pushedSeq!: number;
}
