//! record stage: proposals in SQLite (table `proposal`). Stores what was pushed and
//! opened; never talks to git or a forge.

use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use super::{Rows, SqliteStore, micros};
use crate::state::StateError;
use crate::state::proposal::{
    GroupKey, Proposal, ProposalDraft, ProposalKey, PullRequest, forge_text, parse_forge,
    parse_pr_state, pr_state_text,
};

/// The columns [`proposal`] reads, as a macro so statements stay `&'static str`.
macro_rules! columns {
    () => {
        "repository, branch, group_key, old_digest, new_digest, forge, commit_sha, \
         pr_number, pr_url, pr_state, created_at, updated_at"
    };
}

/// "The content is the same" in [`UPSERT`]: the existing row pins the same digests.
macro_rules! same {
    () => {
        "(old_digest = excluded.old_digest AND new_digest = excluded.new_digest)"
    };
}

/// Inserts a proposal or updates its content. A pushed commit survives only while the
/// digests stay the same; an open pull request survives a content change (pushing the
/// new commit updates it), a merged or closed one does not (the change needs a new one).
/// `updated_at` only moves when something changed, so a rerun is a no-op. (In an upsert,
/// bare column names are the existing row's values, `excluded.` the proposed ones.)
const UPSERT: &str = concat!(
    "INSERT INTO proposal (repository, branch, group_key, old_digest, new_digest, forge, \
     created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
     ON CONFLICT (repository, branch) DO UPDATE SET \
     group_key = excluded.group_key, old_digest = excluded.old_digest, \
     new_digest = excluded.new_digest, forge = excluded.forge, ",
    "commit_sha = CASE WHEN ",
    same!(),
    " THEN commit_sha END, ",
    "pr_number = CASE WHEN ",
    same!(),
    " OR pr_state = 'open' THEN pr_number END, ",
    "pr_url = CASE WHEN ",
    same!(),
    " OR pr_state = 'open' THEN pr_url END, ",
    "pr_state = CASE WHEN ",
    same!(),
    " OR pr_state = 'open' THEN pr_state END, ",
    "updated_at = CASE WHEN ",
    same!(),
    " AND group_key = excluded.group_key \
     AND forge = excluded.forge THEN updated_at ELSE excluded.updated_at END \
     RETURNING ",
    columns!()
);

impl SqliteStore {
    pub(in crate::state) async fn upsert_proposal(
        &self,
        draft: &ProposalDraft,
        at: OffsetDateTime,
    ) -> Result<Proposal, StateError> {
        const OP: &str = "record a proposal";
        let row = sqlx::query(UPSERT)
            .bind(&draft.key.repository)
            .bind(&draft.key.branch)
            .bind(draft.group.as_str())
            .bind(draft.old_digest.as_str())
            .bind(draft.new_digest.as_str())
            .bind(forge_text(draft.forge))
            .bind(micros(at))
            .fetch_one(&self.writer)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        proposal(&self.rows(OP), &row)
    }

    pub(in crate::state) async fn record_commit(
        &self,
        key: &ProposalKey,
        commit: &str,
        at: OffsetDateTime,
    ) -> Result<Proposal, StateError> {
        const OP: &str = "record a pushed commit";
        let sql = concat!(
            "UPDATE proposal SET commit_sha = ?3, updated_at = ?4 \
             WHERE repository = ?1 AND branch = ?2 RETURNING ",
            columns!()
        );
        let row = sqlx::query(sql)
            .bind(&key.repository)
            .bind(&key.branch)
            .bind(commit)
            .bind(micros(at))
            .fetch_optional(&self.writer)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        self.updated(OP, key, row)
    }

    pub(in crate::state) async fn record_pull_request(
        &self,
        key: &ProposalKey,
        pull_request: &PullRequest,
        at: OffsetDateTime,
    ) -> Result<Proposal, StateError> {
        const OP: &str = "record a pull request";
        let sql = concat!(
            "UPDATE proposal SET pr_number = ?3, pr_url = ?4, pr_state = ?5, updated_at = ?6 \
             WHERE repository = ?1 AND branch = ?2 RETURNING ",
            columns!()
        );
        let number = i64::try_from(pull_request.number).unwrap_or(i64::MAX);
        let row = sqlx::query(sql)
            .bind(&key.repository)
            .bind(&key.branch)
            .bind(number)
            .bind(&pull_request.url)
            .bind(pr_state_text(pull_request.state))
            .bind(micros(at))
            .fetch_optional(&self.writer)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        self.updated(OP, key, row)
    }

    pub(in crate::state) async fn proposal(
        &self,
        key: &ProposalKey,
    ) -> Result<Option<Proposal>, StateError> {
        const OP: &str = "read a proposal";
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM proposal WHERE repository = ?1 AND branch = ?2"
        );
        let row = sqlx::query(sql)
            .bind(&key.repository)
            .bind(&key.branch)
            .fetch_optional(&self.pool)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        row.map(|row| proposal(&self.rows(OP), &row)).transpose()
    }

    pub(in crate::state) async fn proposals_in_group(
        &self,
        group: &GroupKey,
    ) -> Result<Vec<Proposal>, StateError> {
        self.proposals(
            "read a group's proposals",
            "group_key = ?1",
            Some(group.as_str()),
        )
        .await
    }

    pub(in crate::state) async fn open_proposals(&self) -> Result<Vec<Proposal>, StateError> {
        self.proposals(
            "list open proposals",
            "pr_state IS NULL OR pr_state = 'open'",
            None,
        )
        .await
    }

    /// Proposals matching `filter` (with `?1` bound to `value`), by repository and branch.
    async fn proposals(
        &self,
        operation: &'static str,
        filter: &'static str,
        value: Option<&str>,
    ) -> Result<Vec<Proposal>, StateError> {
        // Both parts are constants of this file.
        let sql = format!(
            concat!(
                "SELECT ",
                columns!(),
                " FROM proposal WHERE {} ORDER BY repository, branch"
            ),
            filter
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(value) = value {
            query = query.bind(value.to_owned());
        }
        let found = query
            .fetch_all(&self.pool)
            .await
            .map_err(|source| self.query_error(operation, source))?;
        let rows = self.rows(operation);
        found.iter().map(|row| proposal(&rows, row)).collect()
    }

    /// The updated proposal, or `UnknownProposal` when no row matched.
    fn updated(
        &self,
        operation: &'static str,
        key: &ProposalKey,
        row: Option<SqliteRow>,
    ) -> Result<Proposal, StateError> {
        match row {
            Some(row) => proposal(&self.rows(operation), &row),
            None => Err(StateError::UnknownProposal {
                path: self.path.to_path_buf(),
                repository: key.repository.clone(),
                branch: key.branch.clone(),
            }),
        }
    }
}

fn proposal(rows: &Rows<'_>, row: &SqliteRow) -> Result<Proposal, StateError> {
    let pull_request = match rows.get::<Option<i64>>(row, "pr_number")? {
        None => None,
        Some(number) => Some(PullRequest {
            number: u64::try_from(number).map_err(|_| rows.invalid("pr_number", number))?,
            url: rows.get(row, "pr_url")?,
            state: rows.text(row, "pr_state", parse_pr_state)?,
        }),
    };
    Ok(Proposal {
        key: ProposalKey {
            repository: rows.get(row, "repository")?,
            branch: rows.get(row, "branch")?,
        },
        group: GroupKey::new(rows.get::<String>(row, "group_key")?),
        old_digest: rows.digest(row, "old_digest")?,
        new_digest: rows.digest(row, "new_digest")?,
        forge: rows.text(row, "forge", parse_forge)?,
        commit: rows.get(row, "commit_sha")?,
        pull_request,
        created_at: rows.time(row, "created_at")?,
        updated_at: rows.time(row, "updated_at")?,
    })
}
