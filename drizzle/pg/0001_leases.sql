CREATE TABLE "task_runs" (
	"name" text NOT NULL,
	"period" bigint NOT NULL,
	"instance" text NOT NULL,
	"at" bigint NOT NULL,
	CONSTRAINT "task_runs_name_period_pk" PRIMARY KEY("name","period")
);
--> statement-breakpoint
ALTER TABLE "file_imports" ADD COLUMN "claimed_by" text;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "importing_instance" text;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "claimed_by" text;--> statement-breakpoint
CREATE INDEX "sends_claimed" ON "sends" USING btree ("claimed_by") WHERE "sends"."status" = 'claimed';