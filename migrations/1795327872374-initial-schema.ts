import { MigrationInterface, QueryRunner } from 'typeorm';

// Generated from the entities by `npm run migration:generate`; the seed row was added by hand.

export class InitialSchema1795327872374 implements MigrationInterface {
    name = 'InitialSchema1795327872374'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "domains" (
                "domain" text NOT NULL,
                "host_type" text NOT NULL,
                "enabled" boolean NOT NULL DEFAULT true,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_5346af016e911f3008ce7aa9a22" PRIMARY KEY ("domain")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "domains_host_type" ON "domains" ("host_type")
        `);
        await queryRunner.query(`
            CREATE TABLE "domain_events" (
                "seq" bigint NOT NULL,
                "op" text NOT NULL,
                "domain" text NOT NULL,
                "host_type" text,
                "enabled" boolean,
                "author" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_793e562ed120b26114aa29adc9e" PRIMARY KEY ("seq")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "domain_sequence" (
                "id" smallint NOT NULL,
                "seq" bigint NOT NULL,
                "pushed_seq" bigint NOT NULL DEFAULT '0',
                CONSTRAINT "PK_62570e565c6b8670592978ed036" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "revisions" (
                "number" integer NOT NULL,
                "snapshot" jsonb NOT NULL,
                "hash" character(64) NOT NULL,
                "author" text NOT NULL,
                "comment" text,
                "rollback_of" integer,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "pushed_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_b228e2486d82d12816404f305e5" PRIMARY KEY ("number")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "revisions_unpushed" ON "revisions" ("number")
            WHERE pushed_at IS NULL
        `);
        // The counter behind domain_events.seq starts at 0: the first event is seq 1.
        await queryRunner.query(`
            INSERT INTO "domain_sequence" ("id", "seq", "pushed_seq") VALUES (1, 0, 0)
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."revisions_unpushed"
        `);
        await queryRunner.query(`
            DROP TABLE "revisions"
        `);
        await queryRunner.query(`
            DROP TABLE "domain_sequence"
        `);
        await queryRunner.query(`
            DROP TABLE "domain_events"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."domains_host_type"
        `);
        await queryRunner.query(`
            DROP TABLE "domains"
        `);
    }

}
