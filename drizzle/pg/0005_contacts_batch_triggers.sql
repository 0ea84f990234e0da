ALTER TABLE "contacts" DROP CONSTRAINT "contacts_batch_id_batches_id_fk";
--> statement-breakpoint
-- contacts.batch_id → batches.id (ON DELETE CASCADE), kept by triggers instead of the declared
-- foreign key: the key's check ran once per inserted row (about a third of an import's INSERT);
-- these check the batches a statement names once. As the key did, the batches are locked FOR KEY
-- SHARE (a batch being deleted is waited for, and then the insert fails; a delete waits for the
-- insert's commit, then takes its contacts too), and a violation is error 23503 naming the key.
CREATE FUNCTION contacts_batch_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing text;
BEGIN
  PERFORM 1 FROM batches b WHERE b.id IN (SELECT DISTINCT a.batch_id FROM added a) FOR KEY SHARE OF b;
  SELECT a.batch_id INTO missing FROM added a
   WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.id = a.batch_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert or update on table "contacts" violates foreign key constraint "contacts_batch_id_batches_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'contacts_batch_id_batches_id_fk',
            TABLE = 'contacts', COLUMN = 'batch_id',
            DETAIL = format('Key (batch_id)=(%s) is not present in table "batches".', missing);
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER contacts_batch_inserted AFTER INSERT ON contacts REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION contacts_batch_exists();--> statement-breakpoint
-- Nothing moves a contact to another batch; a statement that did is checked row by row, as the
-- key did (only rows whose batch_id changes: no cost to any other UPDATE of contacts).
CREATE FUNCTION contacts_batch_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM batches b WHERE b.id = NEW.batch_id FOR KEY SHARE OF b;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'insert or update on table "contacts" violates foreign key constraint "contacts_batch_id_batches_id_fk"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'contacts_batch_id_batches_id_fk',
            TABLE = 'contacts', COLUMN = 'batch_id',
            DETAIL = format('Key (batch_id)=(%s) is not present in table "batches".', NEW.batch_id);
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER contacts_batch_moved AFTER UPDATE OF batch_id ON contacts
  FOR EACH ROW WHEN (NEW.batch_id IS DISTINCT FROM OLD.batch_id) EXECUTE FUNCTION contacts_batch_moved();--> statement-breakpoint
-- A deleted batch takes its contacts with it (and they theirs: sends, history, sequences).
CREATE FUNCTION batches_delete_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM contacts c USING removed r WHERE c.batch_id = r.id;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER batches_deleted AFTER DELETE ON batches REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION batches_delete_contacts();
