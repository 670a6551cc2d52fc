//! Which tenant the console opens when `ficus` is started without `--tenant` (#5): the flag,
//! else `tenant` in config.toml, else the tenant that last signed in successfully (remembered
//! in a small file under the state directory — a name and a cloud, never a token).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file's name inside the state (or local data) directory.
pub const FILE_NAME: &str = "last-tenant.toml";

/// The tenant (id or domain, as it was given) and the cloud (`global`, `usgov`, `china`) of the
/// last successful sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastTenant {
    pub tenant: String,
    pub cloud: String,
}

/// Where a resolved tenant came from (for the log and the connecting message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantSource {
    Flag,
    Config,
    LastUsed,
}

/// The tenant and cloud to sign in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub tenant: String,
    /// `None`: keep the cloud from `--cloud` / `FICUS_CLOUD`.
    pub cloud: Option<String>,
    pub source: TenantSource,
}

/// What a plain `ficus` says when nothing names a tenant.
pub const NO_TENANT: &str = "no tenant to open: pass --tenant ID-OR-DOMAIN once (it is remembered \
     after a successful sign-in), or set `tenant = \"contoso.onmicrosoft.com\"` in config.toml \
     (or try the console offline first: ficus --sandbox)";

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Flag > config.toml > last used > a message saying what to do. A cloud from config.toml or
/// the remembered file applies only when the cloud was not chosen explicitly
/// (`cloud_given`), and only together with the tenant it came with.
pub fn resolve(
    flag: Option<&str>,
    config_tenant: Option<&str>,
    config_cloud: Option<&str>,
    last: Option<&LastTenant>,
    cloud_given: bool,
) -> Result<Resolved, &'static str> {
    if let Some(tenant) = non_empty(flag) {
        return Ok(Resolved {
            tenant: tenant.to_string(),
            cloud: None,
            source: TenantSource::Flag,
        });
    }
    let pick = |cloud: Option<&str>| {
        if cloud_given {
            None
        } else {
            non_empty(cloud).map(str::to_string)
        }
    };
    if let Some(tenant) = non_empty(config_tenant) {
        return Ok(Resolved {
            tenant: tenant.to_string(),
            cloud: pick(config_cloud),
            source: TenantSource::Config,
        });
    }
    if let Some(last) = last.filter(|l| !l.tenant.trim().is_empty()) {
        return Ok(Resolved {
            tenant: last.tenant.trim().to_string(),
            cloud: pick(Some(&last.cloud)),
            source: TenantSource::LastUsed,
        });
    }
    Err(NO_TENANT)
}

/// The remembered tenant in `dir`, if the file is there and readable. A damaged file is
/// ignored (it is rewritten at the next sign-in).
pub fn load(dir: &Path) -> Option<LastTenant> {
    let text = std::fs::read_to_string(dir.join(FILE_NAME)).ok()?;
    toml::from_str(&text).ok()
}

/// Remembers `last` in `dir`, atomically (a crash never leaves half a file).
pub fn save(dir: &Path, last: &LastTenant) -> std::io::Result<PathBuf> {
    let text = toml::to_string(last).map_err(std::io::Error::other)?;
    let path = dir.join(FILE_NAME);
    ficus_files::write_atomic(&path, text.as_bytes(), ficus_files::Access::Default)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last() -> LastTenant {
        LastTenant {
            tenant: "fabrikam.onmicrosoft.com".into(),
            cloud: "usgov".into(),
        }
    }

    #[test]
    fn the_flag_wins_over_everything() {
        let resolved = resolve(
            Some("contoso.onmicrosoft.com"),
            Some("config.example"),
            Some("china"),
            Some(&last()),
            false,
        )
        .expect("resolved");
        assert_eq!(resolved.tenant, "contoso.onmicrosoft.com");
        assert_eq!(resolved.cloud, None);
        assert_eq!(resolved.source, TenantSource::Flag);
    }

    #[test]
    fn config_wins_over_last_used_and_brings_its_cloud() {
        let resolved = resolve(
            None,
            Some("config.example"),
            Some("china"),
            Some(&last()),
            false,
        )
        .expect("resolved");
        assert_eq!(resolved.tenant, "config.example");
        assert_eq!(resolved.cloud.as_deref(), Some("china"));
        assert_eq!(resolved.source, TenantSource::Config);
    }

    #[test]
    fn last_used_when_nothing_else_names_a_tenant() {
        let resolved = resolve(None, None, Some("china"), Some(&last()), false).expect("resolved");
        assert_eq!(resolved.tenant, "fabrikam.onmicrosoft.com");
        assert_eq!(resolved.cloud.as_deref(), Some("usgov"));
        assert_eq!(resolved.source, TenantSource::LastUsed);
        // An explicit --cloud is kept.
        let resolved = resolve(None, None, None, Some(&last()), true).expect("resolved");
        assert_eq!(resolved.cloud, None);
    }

    #[test]
    fn blank_values_do_not_count_and_nothing_gives_the_message() {
        let blank = LastTenant {
            tenant: "  ".into(),
            cloud: "global".into(),
        };
        let error = resolve(Some(""), Some(" "), None, Some(&blank), false).expect_err("none");
        assert!(error.contains("--tenant"), "{error}");
        assert!(error.contains("ficus --sandbox"), "{error}");
        assert_eq!(resolve(None, None, None, None, false), Err(NO_TENANT));
    }

    #[test]
    fn save_then_load_round_trips_and_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state");
        assert_eq!(load(&state), None);
        save(&state, &last()).expect("save");
        assert_eq!(load(&state), Some(last()));
        let next = LastTenant {
            tenant: "contoso.onmicrosoft.com".into(),
            cloud: "global".into(),
        };
        save(&state, &next).expect("save again");
        assert_eq!(load(&state), Some(next));
        // Only the file itself is left: no temporary file behind.
        let names: Vec<_> = std::fs::read_dir(&state)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)]);
        // Nothing token-like is stored.
        let text = std::fs::read_to_string(state.join(FILE_NAME)).expect("read");
        assert!(!text.contains("token"), "{text}");
    }

    #[test]
    fn a_damaged_file_is_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE_NAME), "tenant = [").expect("write");
        assert_eq!(load(dir.path()), None);
    }
}
