//! diff stage, advisories: refreshing the local OSV data when online — each ecosystem's
//! export (osv.dev publishes `<ecosystem>/all.zip`) downloaded to a temp file beside
//! its place, checked to open as a zip, then renamed over the previous copy, so a failed
//! or partial download never loses the advisories already there. Nothing else in strata
//! needs the network for advisories.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// osv.dev's export of one ecosystem.
pub const OSV_EXPORT_URL: &str =
    "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip";

/// Ecosystems fetched when none are named.
pub const DEFAULT_ECOSYSTEMS: [&str; 3] = ["Debian", "Ubuntu", "Alpine"];

/// What one download did.
#[derive(Debug)]
pub struct Fetched {
    pub ecosystem: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub records: usize,
}

/// Downloads `ecosystem`'s export from `template` into `dir/<ecosystem>-all.zip`.
pub async fn fetch(
    http: &reqwest::Client,
    template: &str,
    ecosystem: &str,
    dir: &Path,
) -> Result<Fetched> {
    if ecosystem.is_empty()
        || !ecosystem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        bail!("{ecosystem:?} is not an OSV ecosystem name");
    }
    let url = template.replace("{ecosystem}", ecosystem);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let file_name = format!("{}-all.zip", ecosystem.replace(':', "_"));
    let path = dir.join(&file_name);
    let temp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = download(http, &url, &temp).await;
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(err) => {
            let _ = std::fs::remove_file(&temp);
            return Err(err.context(format!("downloading {url}")));
        }
    };
    let records = match count_records(&temp) {
        Ok(records) => records,
        Err(err) => {
            let _ = std::fs::remove_file(&temp);
            return Err(err.context(format!(
                "{url} is not a readable zip; the previous copy is kept"
            )));
        }
    };
    std::fs::rename(&temp, &path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(Fetched {
        ecosystem: ecosystem.to_owned(),
        path,
        bytes,
        records,
    })
}

async fn download(http: &reqwest::Client, url: &str, temp: &Path) -> Result<u64> {
    let mut response = http.get(url).send().await?;
    let status = response.status();
    if !status.is_success() {
        bail!("HTTP {status}");
    }
    let mut file =
        std::fs::File::create(temp).with_context(|| format!("writing {}", temp.display()))?;
    let mut bytes = 0u64;
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
        file.write_all(&chunk)?;
    }
    file.sync_all()?;
    Ok(bytes)
}

fn count_records(path: &Path) -> Result<usize> {
    let archive = zip::ZipArchive::new(std::io::BufReader::new(std::fs::File::open(path)?))?;
    Ok(archive
        .file_names()
        .filter(|n| n.as_ref().is_ok_and(|n| n.ends_with(".json")))
        .count())
}
