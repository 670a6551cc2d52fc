//! `config.toml`, typed: where it is, what it says, and what is wrong with it in words (an
//! error names the file and the line, like a keymap error, instead of being ignored).
//!
//! Found at `$FICUS_CONFIG`, else `$XDG_CONFIG_HOME/ficus/config.toml`, else
//! `~/.config/ficus/config.toml`. Every key is optional:
//!
//! ```toml
//! tenant = "contoso.onmicrosoft.com"   # the tenant a plain `ficus` opens
//! cloud = "global"                      # global, usgov or china
//! theme = "light"                       # a theme of themes/ or the config's themes/
//! ```

use std::path::{Path, PathBuf};

use ficus_core::cloud::CloudKind;
use serde::Deserialize;

/// Where ficus keeps its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dirs {
    /// `config.toml`, `keymap.toml`, `themes/`.
    pub config_dir: Option<PathBuf>,
    /// The config file itself (`$FICUS_CONFIG` or `config_dir/config.toml`).
    pub config_file: Option<PathBuf>,
    /// The log and the last-used tenant.
    pub state_dir: Option<PathBuf>,
}

impl Dirs {
    /// The directories of this user (`directories` honours the `XDG_*` variables).
    pub fn of_user() -> Dirs {
        let project = directories::ProjectDirs::from("", "", "ficus");
        let explicit = std::env::var_os("FICUS_CONFIG").map(PathBuf::from);
        let config_dir = match &explicit {
            Some(file) => file.parent().map(PathBuf::from),
            None => project.as_ref().map(|d| d.config_dir().to_path_buf()),
        };
        let config_file = explicit.or_else(|| config_dir.as_ref().map(|d| d.join("config.toml")));
        let state_dir = project.as_ref().map(|d| {
            d.state_dir()
                .map(PathBuf::from)
                .unwrap_or_else(|| d.data_local_dir().to_path_buf())
        });
        Dirs {
            config_dir,
            config_file,
            state_dir,
        }
    }
}

/// What `config.toml` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub tenant: Option<String>,
    pub cloud: Option<CloudKind>,
    pub theme: Option<String>,
}

/// A `config.toml` that cannot be used, in words that name the file and what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    tenant: Option<String>,
    cloud: Option<String>,
    theme: Option<String>,
}

impl Config {
    /// Reads `path`; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(error) => Err(ConfigError {
                path: path.display().to_string(),
                message: format!("cannot read it: {error}"),
            }),
        }
    }

    /// Parses the text of `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.display().to_string(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            error(format!(
                "{} (the keys ficus reads are tenant, cloud and theme)",
                e.to_string().trim_end()
            ))
        })?;
        let cloud = match raw
            .cloud
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(name) => {
                Some(crate::options::parse_cloud(name).map_err(|e| error(format!("cloud: {e}")))?)
            }
        };
        let non_empty =
            |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(Config {
            tenant: non_empty(raw.tenant),
            cloud,
            theme: non_empty(raw.theme),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_read_and_typed() {
        let config = Config::parse(
            "tenant = \"contoso.onmicrosoft.com\"\ncloud = \"usgov\"\ntheme = \"light\"\n",
            Path::new("config.toml"),
        )
        .unwrap();
        assert_eq!(config.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(config.cloud, Some(CloudKind::UsGov));
        assert_eq!(config.theme.as_deref(), Some("light"));
    }

    #[test]
    fn mistakes_are_reported_with_the_file_and_the_fix() {
        let path = Path::new("/home/a/.config/ficus/config.toml");
        let unknown_cloud = Config::parse("cloud = \"mars\"", path).unwrap_err();
        assert!(
            unknown_cloud
                .to_string()
                .starts_with("/home/a/.config/ficus/config.toml: cloud:")
        );
        assert!(unknown_cloud.message.contains("use global, usgov or china"));
        let misspelt = Config::parse("tenat = \"x\"", path).unwrap_err();
        assert!(misspelt.message.contains("tenat"), "{misspelt}");
        assert!(
            misspelt.message.contains("tenant, cloud and theme"),
            "{misspelt}"
        );
        let broken = Config::parse("theme = ", path).unwrap_err();
        assert!(broken.message.contains("line 1"), "{broken}");
    }

    #[test]
    fn a_missing_file_is_an_empty_configuration() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::load(&dir.path().join("config.toml")),
            Ok(Config::default())
        );
    }
}
