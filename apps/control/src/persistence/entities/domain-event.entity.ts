import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type DomainEventOp = 'upsert' | 'delete';

const bigintAsNumber = {
  to: (value: number) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * The gap-free log of dynamic domain changes. `seq` comes from `domain_sequence` inside the
 * same transaction as the change, so a rolled-back change never leaves a hole (a PostgreSQL
 * SEQUENCE would).
 */
@Entity({ name: 'domain_events' })
@Index('domain_events_unpushed', ['seq'], { where: 'pushed_at IS NULL' })
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

  @Column({ name: 'pushed_at', type: 'timestamptz', nullable: true })
  pushedAt!: Date | null;
}

/** Single-row counter behind `domain_events.seq`. */
@Entity({ name: 'domain_sequence' })
export class DomainSequenceEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;
}
