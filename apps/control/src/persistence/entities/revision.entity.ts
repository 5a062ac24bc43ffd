import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { MeridianConfigDocument } from '#config';

/** One immutable, numbered configuration revision. `pushedAt` null = still in the outbox. */
@Entity({ name: 'revisions' })
@Index('revisions_unpushed', ['number'], { where: 'pushed_at IS NULL' })
export class RevisionEntity {
  @PrimaryColumn({ type: 'integer' })
  number!: number;

  @Column({ type: 'jsonb' })
  snapshot!: MeridianConfigDocument;

  @Column({ type: 'char', length: 64 })
  hash!: string;

  @Column({ type: 'text' })
  author!: string;

  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  @Column({ name: 'rollback_of', type: 'integer', nullable: true })
  rollbackOf!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'pushed_at', type: 'timestamptz', nullable: true })
  pushedAt!: Date | null;
}
