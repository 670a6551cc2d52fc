//! X.509 certificates as app credentials (`keyCredentials`): the few fields Entra reads from
//! one (public key, validity, thumbprints), and the check of a client assertion signed with its
//! key (RS256 with `x5t`, PS256 with `x5t#S256`, as MSAL and azure-identity send them).
//!
//! A minimal DER reader, enough for a certificate's `tbsCertificate` up to its
//! `subjectPublicKeyInfo`; bad input is an error, never a panic.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, UnparsedPublicKey};

/// What Entra needs from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCertificate {
    /// `SubjectPublicKeyInfo`, DER.
    pub public_key: Vec<u8>,
    /// Validity, Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub sha1: [u8; 20],
    pub sha256: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("the certificate is not valid DER: {0}")]
    Der(&'static str),
    #[error("the certificate's validity time '{0}' is not a UTCTime or GeneralizedTime")]
    Time(String),
}

struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    /// The next element: (tag, content, whole encoding).
    fn next(&mut self) -> Result<(u8, &'a [u8], &'a [u8]), CertError> {
        let input = self.rest;
        let (&tag, after_tag) = input.split_first().ok_or(CertError::Der("truncated"))?;
        let (&first, mut after_len) = after_tag
            .split_first()
            .ok_or(CertError::Der("truncated length"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || after_len.len() < count {
                return Err(CertError::Der("bad length"));
            }
            let mut len = 0usize;
            for &b in &after_len[..count] {
                len = (len << 8) | usize::from(b);
            }
            after_len = &after_len[count..];
            len
        };
        if after_len.len() < len {
            return Err(CertError::Der("element longer than its input"));
        }
        let header = input.len() - after_len.len();
        let whole = &input[..header + len];
        self.rest = &after_len[len..];
        Ok((tag, &after_len[..len], whole))
    }

    fn expect(&mut self, tag: u8, what: &'static str) -> Result<(&'a [u8], &'a [u8]), CertError> {
        let (found, content, whole) = self.next()?;
        if found == tag {
            Ok((content, whole))
        } else {
            Err(CertError::Der(what))
        }
    }
}

const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// Reads a certificate (DER).
pub fn parse_certificate(der: &[u8]) -> Result<ParsedCertificate, CertError> {
    let (certificate, _) = Der { rest: der }.expect(SEQUENCE, "not a certificate")?;
    let (tbs, _) = Der { rest: certificate }.expect(SEQUENCE, "no tbsCertificate")?;
    let mut fields = Der { rest: tbs };
    let (mut tag, _, _) = fields.next()?;
    // `[0] EXPLICIT version`, then the serial number.
    if tag == 0xa0 {
        (tag, _, _) = fields.next()?;
    }
    if tag != 0x02 {
        return Err(CertError::Der("no serial number"));
    }
    fields.expect(SEQUENCE, "no signature algorithm")?;
    fields.expect(SEQUENCE, "no issuer")?;
    let (validity, _) = fields.expect(SEQUENCE, "no validity")?;
    fields.expect(SEQUENCE, "no subject")?;
    let (_, public_key) = fields.expect(SEQUENCE, "no subjectPublicKeyInfo")?;
    let mut times = Der { rest: validity };
    let not_before = read_time(&mut times)?;
    let not_after = read_time(&mut times)?;
    let mut sha1 = [0u8; 20];
    sha1.copy_from_slice(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref());
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(digest::digest(&digest::SHA256, der).as_ref());
    Ok(ParsedCertificate {
        public_key: public_key.to_vec(),
        not_before,
        not_after,
        sha1,
        sha256,
    })
}

fn read_time(der: &mut Der<'_>) -> Result<i64, CertError> {
    let (tag, content, _) = der.next()?;
    let text = std::str::from_utf8(content).map_err(|_| CertError::Der("time is not text"))?;
    let bad = || CertError::Time(text.to_string());
    let digits = text.strip_suffix('Z').ok_or_else(bad)?;
    // ASCII digits only, so the fixed-width slices below stay on character boundaries.
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (year, rest) = match (tag, digits.len()) {
        (UTC_TIME, 12) => {
            let yy: i32 = digits[..2].parse().map_err(|_| bad())?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (GENERALIZED_TIME, 14) => (digits[..4].parse().map_err(|_| bad())?, &digits[4..]),
        _ => return Err(bad()),
    };
    let field = |i: usize| -> Result<u8, CertError> {
        rest.get(i..i + 2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)
    };
    let month = time::Month::try_from(field(0)?).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(year, month, field(2)?).map_err(|_| bad())?;
    let clock = time::Time::from_hms(field(4)?, field(6)?, field(8)?).map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, clock)
        .assume_utc()
        .unix_timestamp())
}

/// Why a signature over a client assertion does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the algorithm '{0}' is not supported; sign with RS256 or PS256")]
    Algorithm(String),
    #[error("the signature does not verify with the certificate's key")]
    Invalid,
}

/// Verifies a JWS signature (`alg` RS256 or PS256) with a certificate's public key.
pub fn verify_signature(
    certificate: &ParsedCertificate,
    alg: &str,
    signing_input: &[u8],
    signature_bytes: &[u8],
) -> Result<(), SignatureError> {
    let algorithm: &dyn signature::VerificationAlgorithm = match alg {
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
        other => return Err(SignatureError::Algorithm(other.to_string())),
    };
    UnparsedPublicKey::new(algorithm, &certificate.public_key)
        .verify(signing_input, signature_bytes)
        .map_err(|_| SignatureError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_generated_certificate() {
        let material = crate::keys::generate_material().expect("keygen");
        let parsed = parse_certificate(&material.certificate_der).expect("parses");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        // generate_material: valid from a day ago for five years.
        assert!(
            (parsed.not_before - (now - 86400)).abs() < 120,
            "{}",
            parsed.not_before
        );
        assert!(parsed.not_after > now + 4 * 365 * 86400);
        assert_eq!(
            ficus_core::jwt::b64url(&parsed.sha1),
            material.kid,
            "the SHA-1 thumbprint is the kid"
        );
        // The key verifies what the matching private key signs.
        let key = crate::keys::TenantKey::from_material(uuid::Uuid::nil(), &material).expect("key");
        let signature_bytes = key.sign(b"payload");
        assert_eq!(
            verify_signature(&parsed, "RS256", b"payload", &signature_bytes),
            Ok(())
        );
        assert_eq!(
            verify_signature(&parsed, "RS256", b"payload!", &signature_bytes),
            Err(SignatureError::Invalid)
        );
        assert!(matches!(
            verify_signature(&parsed, "HS256", b"payload", &signature_bytes),
            Err(SignatureError::Algorithm(_))
        ));
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let material = crate::keys::generate_material().expect("keygen");
        let der = &material.certificate_der;
        for cut in [0, 1, 2, 5, 40, der.len() / 2, der.len() - 1] {
            assert!(parse_certificate(&der[..cut]).is_err(), "cut at {cut}");
        }
        assert!(parse_certificate(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse_certificate(b"not a certificate at all").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_or_fail_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_certificate(&bytes);
        }

        #[test]
        fn any_sequence_shaped_bytes_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
            let mut der = vec![0x30, body.len() as u8];
            der.extend_from_slice(&body);
            let _ = parse_certificate(&der);
        }
    }

    #[test]
    fn both_time_forms() {
        let utc = [
            0x17, 13, b'2', b'5', b'0', b'1', b'0', b'2', b'0', b'3', b'0', b'4', b'0', b'5', b'Z',
        ];
        assert_eq!(read_time(&mut Der { rest: &utc }), Ok(1_735_787_045));
        let generalized = b"\x18\x0f20500102030405Z";
        assert_eq!(read_time(&mut Der { rest: generalized }), Ok(2_524_705_445));
        let bad = b"\x18\x0f20501302030405Z";
        assert!(read_time(&mut Der { rest: bad }).is_err());
        // Multi-byte text of the right length is refused, not sliced mid-character.
        let utf8 = "0\u{e9}010203040Z".as_bytes();
        let mut encoded = vec![UTC_TIME, utf8.len() as u8];
        encoded.extend_from_slice(utf8);
        assert!(read_time(&mut Der { rest: &encoded }).is_err());
    }
}
