//! record stage: tag observations in PostgreSQL (tables `tag`, `tag_digest`, `tag_move`).
//! Stores what was observed; never resolves a tag itself. Observations of one tag queue
//! behind each other on its row (`FOR UPDATE`), so two workers seeing the same move at
//! once record it once.

use sqlx::postgres::PgRow;
use sqlx::{Postgres, Transaction};
use strata_core::reference::Digest;
use time::OffsetDateTime;

use super::{PostgresStore, Rows, micros};
use crate::registry::TagKey;
use crate::state::MoveId;
use crate::state::StateError;
use crate::state::observation::{DigestSighting, Observation, TagMove, TagStatus};

/// The tag's row, locked until the transaction ends.
const FIND_TAG: &str = "SELECT id, current_digest, current_since, last_checked FROM tag \
     WHERE registry = $1 AND repository = $2 AND tag = $3 FOR UPDATE";

/// Adds an observation of a digest to its sighting, creating it if needed.
const SIGHTING: &str = "INSERT INTO tag_digest AS d (tag_id, digest, first_seen, last_seen) \
     VALUES ($1, $2, $3, $3) \
     ON CONFLICT (tag_id, digest) DO UPDATE SET \
     first_seen = least(d.first_seen, excluded.first_seen), \
     last_seen = greatest(d.last_seen, excluded.last_seen) \
     RETURNING first_seen";

/// Moves with the first sighting of their target; `$1..$3` select the tag.
const MOVES: &str = "SELECT m.id, m.from_digest, m.to_digest, m.from_last_seen, m.observed_at, \
     d.first_seen AS to_first_seen \
     FROM tag_move m JOIN tag t ON t.id = m.tag_id \
     JOIN tag_digest d ON d.tag_id = m.tag_id AND d.digest = m.to_digest \
     WHERE t.registry = $1 AND t.repository = $2 AND t.tag = $3";

impl PostgresStore {
    pub(in crate::state) async fn record_observation(
        &self,
        key: &TagKey,
        digest: &Digest,
        at: OffsetDateTime,
    ) -> Result<Observation, StateError> {
        const OP: &str = "record an observation";
        let rows = self.rows(OP);
        let fail = |source| self.query_error(OP, source);
        let at = micros(at);
        let mut tx = self.begin(OP).await?;
        let mut found = bind_key(sqlx::query(FIND_TAG), key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(fail)?;
        if found.is_none() {
            // A first observation. Another worker may be inserting the same tag: the
            // loser of that race waits for the winner's commit, then reads its row.
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO tag (registry, repository, tag, current_digest, current_since, \
                 first_checked, last_checked) VALUES ($1, $2, $3, $4, $5, $5, $5) \
                 ON CONFLICT (registry, repository, tag) DO NOTHING RETURNING id",
            )
            .bind(&key.registry)
            .bind(&key.repository)
            .bind(&key.tag)
            .bind(digest.as_str())
            .bind(at)
            .fetch_optional(&mut *tx)
            .await
            .map_err(fail)?;
            if let Some(id) = id {
                sight(&mut tx, id, digest, at).await.map_err(fail)?;
                tx.commit().await.map_err(fail)?;
                return Ok(Observation::New);
            }
            found = bind_key(sqlx::query(FIND_TAG), key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(fail)?;
        }
        let Some(found) = found else {
            // Inserted by another transaction and deleted since: nothing strata does.
            return Err(rows.invalid("tag", key));
        };
        let id: i64 = rows.get(&found, "id")?;
        let current = rows.digest(&found, "current_digest")?;
        let last_checked = rows.time(&found, "last_checked")?;
        let outcome = if at < last_checked {
            sight(&mut tx, id, digest, at).await.map_err(fail)?;
            Observation::Outdated { current }
        } else if current == *digest {
            sight(&mut tx, id, digest, at).await.map_err(fail)?;
            sqlx::query("UPDATE tag SET last_checked = $2 WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            let since = rows.time(&found, "current_since")?;
            Observation::Unchanged { since }
        } else {
            Observation::Moved(self.record_move(&mut tx, id, current, digest, at).await?)
        };
        tx.commit().await.map_err(fail)?;
        Ok(outcome)
    }

    /// Records that tag `id` moved from `from` to `to`, observed at `at`.
    async fn record_move(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        id: i64,
        from: Digest,
        to: &Digest,
        at: OffsetDateTime,
    ) -> Result<TagMove, StateError> {
        const OP: &str = "record a tag move";
        let fail = |source| self.query_error(OP, source);
        let from_last_seen: OffsetDateTime = sqlx::query_scalar(
            "SELECT last_seen FROM tag_digest WHERE tag_id = $1 AND digest = $2",
        )
        .bind(id)
        .bind(from.as_str())
        .fetch_one(&mut **tx)
        .await
        .map_err(fail)?;
        let to_first_seen = sight(tx, id, to, at).await.map_err(fail)?;
        let move_id: i64 = sqlx::query_scalar(
            "INSERT INTO tag_move (tag_id, from_digest, to_digest, from_last_seen, observed_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(from_last_seen)
        .bind(at)
        .fetch_one(&mut **tx)
        .await
        .map_err(fail)?;
        sqlx::query(
            "UPDATE tag SET current_digest = $2, current_since = $3, last_checked = $3 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(fail)?;
        Ok(TagMove {
            id: MoveId(move_id),
            from,
            to: to.clone(),
            from_last_seen,
            observed_at: at,
            to_first_seen,
        })
    }

    pub(in crate::state) async fn current(
        &self,
        key: &TagKey,
    ) -> Result<Option<TagStatus>, StateError> {
        const OP: &str = "read a tag's current digest";
        let rows = self.rows(OP);
        let row = bind_key(
            sqlx::query(
                "SELECT current_digest, current_since, first_checked, last_checked FROM tag \
                 WHERE registry = $1 AND repository = $2 AND tag = $3",
            ),
            key,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TagStatus {
            digest: rows.digest(&row, "current_digest")?,
            since: rows.time(&row, "current_since")?,
            first_checked: rows.time(&row, "first_checked")?,
            last_checked: rows.time(&row, "last_checked")?,
        }))
    }

    pub(in crate::state) async fn history(&self, key: &TagKey) -> Result<Vec<TagMove>, StateError> {
        const OP: &str = "read a tag's moves";
        let sql = sqlx::AssertSqlSafe(format!("{MOVES} ORDER BY m.observed_at, m.id"));
        let found = bind_key(sqlx::query(sql), key)
            .fetch_all(&self.pool)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        found
            .iter()
            .map(|row| tag_move(&self.rows(OP), row))
            .collect()
    }

    pub(in crate::state) async fn last_move(
        &self,
        key: &TagKey,
    ) -> Result<Option<TagMove>, StateError> {
        const OP: &str = "read a tag's last move";
        let sql = sqlx::AssertSqlSafe(format!(
            "{MOVES} ORDER BY m.observed_at DESC, m.id DESC LIMIT 1"
        ));
        let found = bind_key(sqlx::query(sql), key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        found.map(|row| tag_move(&self.rows(OP), &row)).transpose()
    }

    pub(in crate::state) async fn sightings(
        &self,
        key: &TagKey,
    ) -> Result<Vec<DigestSighting>, StateError> {
        const OP: &str = "read a tag's digests";
        let rows = self.rows(OP);
        let found = bind_key(
            sqlx::query(
                "SELECT d.digest, d.first_seen, d.last_seen FROM tag_digest d \
                 JOIN tag t ON t.id = d.tag_id \
                 WHERE t.registry = $1 AND t.repository = $2 AND t.tag = $3 \
                 ORDER BY d.first_seen, d.digest COLLATE \"C\"",
            ),
            key,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        found
            .iter()
            .map(|row| {
                Ok(DigestSighting {
                    digest: rows.digest(row, "digest")?,
                    first_seen: rows.time(row, "first_seen")?,
                    last_seen: rows.time(row, "last_seen")?,
                })
            })
            .collect()
    }

    pub(in crate::state) async fn digest_first_seen(
        &self,
        key: &TagKey,
        digest: &Digest,
    ) -> Result<Option<OffsetDateTime>, StateError> {
        const OP: &str = "read when a digest was first seen";
        let row = bind_key(
            sqlx::query(
                "SELECT d.first_seen FROM tag_digest d JOIN tag t ON t.id = d.tag_id \
                 WHERE t.registry = $1 AND t.repository = $2 AND t.tag = $3 AND d.digest = $4",
            ),
            key,
        )
        .bind(digest.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        row.map(|row| self.rows(OP).time(&row, "first_seen"))
            .transpose()
    }
}

type Query<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds `$1..$3` to the tag's registry, repository and tag.
fn bind_key<'q>(query: Query<'q>, key: &'q TagKey) -> Query<'q> {
    query
        .bind(&key.registry)
        .bind(&key.repository)
        .bind(&key.tag)
}

/// Records a sighting of `digest` on tag `id`; returns its first sighting.
async fn sight(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    digest: &Digest,
    at: OffsetDateTime,
) -> Result<OffsetDateTime, sqlx::Error> {
    sqlx::query_scalar(SIGHTING)
        .bind(id)
        .bind(digest.as_str())
        .bind(at)
        .fetch_one(&mut **tx)
        .await
}

fn tag_move(rows: &Rows<'_>, row: &PgRow) -> Result<TagMove, StateError> {
    Ok(TagMove {
        id: MoveId(rows.get(row, "id")?),
        from: rows.digest(row, "from_digest")?,
        to: rows.digest(row, "to_digest")?,
        from_last_seen: rows.time(row, "from_last_seen")?,
        observed_at: rows.time(row, "observed_at")?,
        to_first_seen: rows.time(row, "to_first_seen")?,
    })
}
