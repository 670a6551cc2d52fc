//! HTTPS for the sandbox: a CA generated per run and a leaf certificate for `localhost` and
//! `127.0.0.1` signed by it. Clients trust the CA (written as PEM: `REQUESTS_CA_BUNDLE`, or
//! reqwest's `tls_certs_only`).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not generate the sandbox TLS certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error(
        "could not write the sandbox CA certificate to {path}: {source}; pass --state in a writable directory"
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The generated CA and the server's leaf certificate (PEM).
pub struct TlsMaterial {
    pub ca_pem: String,
    pub leaf_chain_pem: String,
    pub leaf_key_pem: ficus_core::secret::Secret<String>,
}

fn ca_params() -> Result<CertificateParams, TlsError> {
    let now = time::OffsetDateTime::now_utc();
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "ficus sandbox local CA");
    name.push(DnType::OrganizationName, "ficus sandbox");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    Ok(params)
}

fn leaf(
    extra_hosts: &[String],
    issuer: &rcgen::Issuer<'_, KeyPair>,
) -> Result<(String, String), TlsError> {
    let now = time::OffsetDateTime::now_utc();
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    for h in extra_hosts {
        if !names.contains(h) {
            names.push(h.clone());
        }
    }
    let mut params = CertificateParams::new(names)?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    params.distinguished_name = name;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(90);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Generates a CA and a leaf for `localhost`, `127.0.0.1`, `::1` and any `extra_hosts`.
pub fn generate(extra_hosts: &[String]) -> Result<TlsMaterial, TlsError> {
    let ca = CertifiedIssuer::self_signed(ca_params()?, KeyPair::generate()?)?;
    let (leaf_pem, leaf_key) = leaf(extra_hosts, &ca)?;
    Ok(TlsMaterial {
        ca_pem: ca.pem(),
        leaf_chain_pem: format!("{leaf_pem}{}", ca.pem()),
        leaf_key_pem: ficus_core::secret::Secret::new(leaf_key),
    })
}

/// The CA's private key file next to its certificate (`sandbox-ca.pem` → `sandbox-ca.key`).
pub fn ca_key_path(ca_cert: &Path) -> PathBuf {
    ca_cert.with_extension("key")
}

/// Like [`generate`], but keeps the CA across runs: when `ca_cert` and its key file exist, the
/// CA is reused (so a client that trusts it once keeps trusting it) and only the leaf is new;
/// otherwise a new CA is made and both files are written (the key 0600).
pub fn generate_persistent(
    ca_cert: &Path,
    extra_hosts: &[String],
) -> Result<TlsMaterial, TlsError> {
    let key_path = ca_key_path(ca_cert);
    let existing = std::fs::read_to_string(ca_cert)
        .ok()
        .zip(std::fs::read_to_string(&key_path).ok())
        .filter(|(cert, _)| cert.starts_with("-----BEGIN CERTIFICATE-----"))
        .and_then(|(cert, key)| KeyPair::from_pem(&key).ok().map(|k| (cert, k)));
    if let Some((ca_pem, ca_key)) = existing {
        // Same subject and key as the stored certificate, so leaves chain to it.
        let issuer = rcgen::Issuer::new(ca_params()?, ca_key);
        let (leaf_pem, leaf_key) = leaf(extra_hosts, &issuer)?;
        return Ok(TlsMaterial {
            leaf_chain_pem: format!("{leaf_pem}{ca_pem}"),
            ca_pem,
            leaf_key_pem: ficus_core::secret::Secret::new(leaf_key),
        });
    }
    let ca_key = KeyPair::generate()?;
    let ca_key_pem = ca_key.serialize_pem();
    let ca = CertifiedIssuer::self_signed(ca_params()?, ca_key)?;
    let (leaf_pem, leaf_key) = leaf(extra_hosts, &ca)?;
    write_private(&key_path, &ca_key_pem)?;
    write_ca(ca_cert, &ca.pem())?;
    Ok(TlsMaterial {
        ca_pem: ca.pem(),
        leaf_chain_pem: format!("{leaf_pem}{}", ca.pem()),
        leaf_key_pem: ficus_core::secret::Secret::new(leaf_key),
    })
}

/// The error for a failed write of `path`.
fn write_error(path: &Path) -> impl Fn(std::io::Error) -> TlsError + Copy + '_ {
    move |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates the directory `path` goes in, if it has one.
fn create_parent(path: &Path) -> Result<(), TlsError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(write_error(path))
        }
        _ => Ok(()),
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), TlsError> {
    let err = write_error(path);
    create_parent(path)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options.open(path).map_err(err)?;
    file.write_all(text.as_bytes()).map_err(err)
}

/// Where the CA goes: next to the state file (`<stem>-ca.pem`), else in the temp directory
/// (named after the port so several sandboxes can run at once).
pub fn ca_path(state_file: Option<&Path>, port: u16) -> PathBuf {
    match state_file {
        Some(state) => {
            let stem = state
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "sandbox".into());
            state
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
                .join(format!("{stem}-ca.pem"))
        }
        None => std::env::temp_dir().join(format!("ficus-sandbox-ca-{port}.pem")),
    }
}

pub fn write_ca(path: &Path, pem: &str) -> Result<(), TlsError> {
    create_parent(path)?;
    std::fs::write(path, pem).map_err(write_error(path))
}
