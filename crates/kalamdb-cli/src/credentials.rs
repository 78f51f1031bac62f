//! Saved credentials, one entry per server URL, in
//! `$HOME/.kalam/credentials.json` (like psql's `.pgpass`): the file is
//! created with mode 0600 inside a 0700 directory because it holds
//! passwords or tokens in clear. `kalam` with no auth flags uses the entry
//! of its `--url`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// What is remembered for one server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `$HOME/.kalam`, where credentials and history live.
pub fn kalam_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".kalam"))
}

fn file_in(dir: &Path) -> PathBuf {
    dir.join("credentials.json")
}

fn read_all(dir: &Path) -> BTreeMap<String, Saved> {
    std::fs::read_to_string(file_in(dir))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// The saved entry for `url`, if any (an unreadable file counts as none).
pub fn load(dir: &Path, url: &str) -> Option<Saved> {
    read_all(dir).remove(url)
}

/// Stores `saved` under `url`, creating the directory (0700) and the file
/// (0600) as needed.
pub fn save(dir: &Path, url: &str, saved: Saved) -> Result<(), CliError> {
    let fail = |e: std::io::Error| {
        CliError::Usage(format!("cannot save credentials in {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    restrict(dir, 0o700).map_err(fail)?;
    let mut all = read_all(dir);
    all.insert(url.to_string(), saved);
    let text = serde_json::to_string_pretty(&all)
        .map_err(|e| CliError::Usage(format!("cannot encode credentials: {e}")))?;
    let path = file_in(dir);
    write_private(&path, text.as_bytes()).map_err(fail)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Writes with mode 0600 from the first byte (no window where the secret
/// is world-readable), then tightens an older file that was looser.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    restrict(path, 0o600)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_per_url_and_private() {
        let tmp = std::env::temp_dir().join(format!("kalam-cred-test-{}", std::process::id()));
        let dir = tmp.join(".kalam");
        let a = Saved {
            user: "root".into(),
            password: Some("pw".into()),
            token: None,
        };
        save(&dir, "http://a:1", a.clone()).unwrap();
        save(
            &dir,
            "http://b:2",
            Saved {
                user: "bob".into(),
                ..Saved::default()
            },
        )
        .unwrap();
        assert_eq!(load(&dir, "http://a:1"), Some(a));
        assert_eq!(load(&dir, "http://b:2").unwrap().user, "bob");
        assert_eq!(load(&dir, "http://c:3"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("credentials.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
