//! The RSA-2048 signing key: generation (with the self-signed certificate Entra publishes in
//! `x5c`), the parsed key ring used for signing (one global key, as Entra's), and the JWKS.

use std::collections::HashSet;
use std::sync::Arc;

use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use uuid::Uuid;

use crate::model::{Directory, SigningKeyMaterial};
use ficus_core::jwt::{Jwk, Jwks, b64url};
use ficus_core::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate an RSA signing key: {0}")]
    Generate(String),
    #[error(
        "the stored signing key of tenant {tenant} is unusable ({detail}); restore the state file from a backup or start with a new one"
    )]
    Unusable { tenant: Uuid, detail: String },
}

/// Generates a fresh RSA-2048 key and a self-signed certificate for it (CN like Entra's).
pub fn generate_material() -> Result<SigningKeyMaterial, KeyError> {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "accounts.accesscontrol.windows.net",
    );
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(5 * 365);
    let cert = params
        .self_signed(&key)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let certificate_der = cert.der().to_vec();
    let thumbprint = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &certificate_der,
    );
    Ok(SigningKeyMaterial {
        kid: b64url(thumbprint.as_ref()),
        private_key_pkcs8: Secret::new(key.serialize_der()),
        certificate_der,
    })
}

/// Which signing key a freshly seeded directory gets (a loaded state file keeps its own).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SeedKey {
    /// One key per process, generated on first use and shared by every directory the process
    /// seeds, as Entra's one key is global. RSA-2048 generation costs up to a second of CPU in
    /// a debug build, and a test process seeds a hundred sandboxes.
    #[default]
    PerProcess,
    /// A key of this directory's own (`ficus sandbox`; tests that tell a restart's stored key
    /// from a new one).
    Fresh,
}

/// The key [`SeedKey::PerProcess`] hands out.
static PROCESS_KEY: std::sync::Mutex<Option<SigningKeyMaterial>> = std::sync::Mutex::new(None);

/// The signing key material `choice` asks for: the process's (generated on first use; callers
/// arriving meanwhile wait for it) or a new one.
pub fn seed_material(choice: SeedKey) -> Result<SigningKeyMaterial, KeyError> {
    match choice {
        SeedKey::Fresh => generate_material(),
        SeedKey::PerProcess => {
            let mut slot = PROCESS_KEY.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(material) = slot.as_ref() {
                return Ok(material.clone());
            }
            let material = generate_material()?;
            *slot = Some(material.clone());
            Ok(material)
        }
    }
}

/// A tenant's key, parsed and ready to sign.
pub struct TenantKey {
    pub kid: String,
    key_pair: RsaKeyPair,
    /// The public JWK as the JWKS publishes it (without `issuer`).
    pub jwk: Jwk,
}

impl std::fmt::Debug for TenantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantKey").field("kid", &self.kid).finish()
    }
}

impl TenantKey {
    pub fn from_material(
        tenant: Uuid,
        material: &SigningKeyMaterial,
    ) -> Result<TenantKey, KeyError> {
        let key_pair =
            RsaKeyPair::from_pkcs8(material.private_key_pkcs8.expose()).map_err(|e| {
                KeyError::Unusable {
                    tenant,
                    detail: e.to_string(),
                }
            })?;
        let public = key_pair.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        let jwk = Jwk {
            kty: "RSA".into(),
            key_use: Some("sig".into()),
            kid: Some(material.kid.clone()),
            x5t: Some(material.kid.clone()),
            n: Some(b64url(&n)),
            e: Some(b64url(&e)),
            x5c: vec![STANDARD.encode(&material.certificate_der)],
            issuer: None,
            cloud_instance_name: None,
        };
        Ok(TenantKey {
            kid: material.kid.clone(),
            key_pair,
            jwk,
        })
    }

    /// RS256 signature of `input`.
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        let mut signature = vec![0u8; self.key_pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        // Signing with a valid in-memory 2048-bit key and a right-sized buffer cannot fail;
        // an empty signature (which no verifier accepts) is the safe fallback.
        if self
            .key_pair
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &rng,
                input,
                &mut signature,
            )
            .is_err()
        {
            signature.clear();
        }
        signature
    }
}

/// The directory's signing key and the tenants it signs for. Entra's keys are global: one key
/// set signs every tenant's tokens, so a token of any tenant verifies against them and only the
/// `iss`/`tid` check keeps tenants apart. The key is the first tenant's stored key (every tenant
/// of a seeded directory stores the same one).
#[derive(Debug, Default)]
pub struct KeyRing {
    key: Option<Arc<TenantKey>>,
    tenants: HashSet<Uuid>,
}

impl KeyRing {
    pub fn from_directory(directory: &Directory) -> Result<KeyRing, KeyError> {
        let key = match directory.tenants.first() {
            Some(t) => Some(Arc::new(TenantKey::from_material(t.id, &t.signing_key)?)),
            None => None,
        };
        Ok(KeyRing {
            key,
            tenants: directory.tenants.iter().map(|t| t.id).collect(),
        })
    }

    /// The signing key, when `tenant` is one this sandbox hosts (the same key for all).
    pub fn get(&self, tenant: Uuid) -> Option<Arc<TenantKey>> {
        if self.tenants.contains(&tenant) {
            self.key.clone()
        } else {
            None
        }
    }

    /// The global key, whatever the tenant.
    pub fn global(&self) -> Option<Arc<TenantKey>> {
        self.key.clone()
    }

    /// The JWKS as Entra serves it: the global keys, the same on every tenant's and on the
    /// `common` endpoint. `issuer` is the v2 issuer template (`{authority}/{tenantid}/v2.0`)
    /// each key carries on the v2 endpoint; the v1 endpoint (`/discovery/keys`) passes `None`:
    /// its keys carry no issuer.
    pub fn jwks(&self, issuer: Option<&str>) -> Jwks {
        Jwks {
            keys: self
                .key
                .iter()
                .map(|k| {
                    let mut jwk = k.jwk.clone();
                    jwk.issuer = issuer.map(str::to_string);
                    jwk.cloud_instance_name = Some("microsoftonline.com".into());
                    jwk
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_signs_what_its_jwk_verifies() {
        let material = generate_material().expect("keygen");
        let key = TenantKey::from_material(Uuid::nil(), &material).expect("parses");
        assert_eq!(key.jwk.x5t, key.jwk.kid);
        assert_eq!(key.jwk.e.as_deref(), Some("AQAB"));
        let header =
            b64url(format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{}"}}"#, key.kid).as_bytes());
        let claims = b64url(br#"{"sub":"x"}"#);
        let input = format!("{header}.{claims}");
        let token = format!("{input}.{}", b64url(&key.sign(input.as_bytes())));
        let jwt = ficus_core::jwt::decode(&token).expect("decodes");
        let jwks = Jwks {
            keys: vec![key.jwk.clone()],
        };
        ficus_core::jwt::verify(&jwt, &jwks).expect("verifies");
    }

    #[test]
    fn seeds_share_the_process_key_unless_asked_for_a_fresh_one() {
        let first = seed_material(SeedKey::PerProcess).expect("keygen");
        let second = seed_material(SeedKey::PerProcess).expect("the same key");
        assert_eq!(first.kid, second.kid);
        assert_eq!(
            first.private_key_pkcs8.expose(),
            second.private_key_pkcs8.expose()
        );
        let fresh = seed_material(SeedKey::Fresh).expect("keygen");
        assert_ne!(fresh.kid, first.kid);
    }

    #[test]
    fn corrupt_material_is_an_error_not_a_panic() {
        // A copy of the process's key: corrupting it leaves the shared one alone.
        let mut material = seed_material(SeedKey::PerProcess).expect("keygen");
        material.private_key_pkcs8 = Secret::new(vec![1, 2, 3]);
        assert!(matches!(
            TenantKey::from_material(Uuid::nil(), &material),
            Err(KeyError::Unusable { .. })
        ));
    }
}
