CREATE TABLE "identity_days" (
	"account" text NOT NULL,
	"day" bigint NOT NULL,
	"used" integer NOT NULL,
	CONSTRAINT "identity_days_account_day_pk" PRIMARY KEY("account","day")
);
