import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A dynamic domain (MongooseIM 5 style): served like globalHost, outside the revisions. */
@Entity({ name: 'domains' })
@Index('domains_host_type', ['hostType'])
export class DomainEntity {
  @PrimaryColumn({ type: 'text' })
  domain!: string;

  @Column({ name: 'host_type', type: 'text' })
  hostType!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
