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
    pub leaf_key_pem: crate::secret::Secret<String>,
}

/// Generates a CA and a leaf for `localhost`, `127.0.0.1`, `::1` and any `extra_hosts`.
pub fn generate(extra_hosts: &[String]) -> Result<TlsMaterial, TlsError> {
    let now = time::OffsetDateTime::now_utc();
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "ficus sandbox local CA");
    ca_name.push(DnType::OrganizationName, "ficus sandbox");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = now - time::Duration::days(1);
    ca_params.not_after = now + time::Duration::days(365);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

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
    let mut leaf_params = CertificateParams::new(names)?;
    let mut leaf_name = DistinguishedName::new();
    leaf_name.push(DnType::CommonName, "localhost");
    leaf_params.distinguished_name = leaf_name;
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.not_before = now - time::Duration::days(1);
    leaf_params.not_after = now + time::Duration::days(90);
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;
    Ok(TlsMaterial {
        ca_pem: ca.pem(),
        leaf_chain_pem: format!("{}{}", leaf.pem(), ca.pem()),
        leaf_key_pem: crate::secret::Secret::new(leaf_key.serialize_pem()),
    })
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
    let err = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, pem).map_err(err)
}
