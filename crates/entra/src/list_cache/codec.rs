//! The list cache's file (format 2): a length-prefixed binary layout, because the warm start
//! reads it before anything else and JSON of 100,000 apps (42 MB, a map per FIC) took most
//! of the start's budget to parse. No new crate: little-endian integers and UTF-8 strings
//! with a `u32` length in front, a checksum at the end.
//!
//! ```text
//! magic "FICUSLC\0" · version u32 · body · checksum u64 (of the body)
//! body: tenant · savedAt i64 · appsDeltaLink? · identitiesDeltaLink? ·
//!       identities u32 × (name · kind u8 · clientId · principalId · armId? ·
//!                         subscription? · resourceGroup? · tenantId?) ·
//!       apps u32 · chunks u32 × (apps u32 · bytes u32 · app…), each app:
//!                  (id · appId · displayName? · signInAudience? ·
//!                   secrets u32 × (name? keyId? end?)  — never the hint ·
//!                   certificates u32 × (name? keyId? end? type? usage?) ·
//!                   identifierUris u32 × str · fics? u32 × json)
//! ```
//!
//! The identities come first so the Identities list can be read without the apps.
//!
//! A file that is not this layout (another magic, version, a count past the end, bad UTF-8,
//! trailing bytes, a checksum that differs) is refused with what is wrong; the caller lists
//! in full and writes a new one.

use ficus_core::fic::{Identity, IdentityKind};
use serde_json::Value;

use super::ListCache;
use crate::graph::{AppListItem, KeyCredential, PasswordCredential};

const MAGIC: &[u8; 8] = b"FICUSLC\0";
/// Apps a chunk holds (a 100,000-app tenant is 8 chunks).
const CHUNK_APPS: usize = 12_500;

pub(super) fn encode(cache: &ListCache) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(64 + cache.apps.len() * 160));
    w.0.extend_from_slice(MAGIC);
    w.u32(cache.version);
    let body_start = w.0.len();
    w.str(&cache.tenant_id);
    w.i64(cache.saved_at);
    w.opt(cache.apps_delta_link.as_deref());
    w.opt(cache.identities_delta_link.as_deref());
    w.len(cache.identities.len());
    for identity in &cache.identities {
        w.str(&identity.name);
        w.u8(match identity.kind {
            IdentityKind::UserAssigned => 0,
            IdentityKind::SystemAssigned => 1,
        });
        w.str(&identity.client_id);
        w.str(&identity.principal_id);
        w.opt(identity.arm_id.as_deref());
        w.opt(identity.subscription.as_deref());
        w.opt(identity.resource_group.as_deref());
        w.opt(identity.tenant_id.as_deref());
    }
    w.len(cache.apps.len());
    // In the console's order (names, case-insensitively): the warm start's list is built
    // from rows that arrive sorted, without sorting 100,000 of them on the UI thread.
    let mut apps: Vec<&AppListItem> = cache.apps.values().collect();
    apps.sort_by_cached_key(|app| (folded_name(app), app.id.clone()));
    // In chunks, each with its length, so they decode on several threads.
    let chunks: Vec<&[&AppListItem]> = apps.chunks(CHUNK_APPS).collect();
    w.len(chunks.len());
    for chunk in chunks {
        let mut part = Writer(Vec::with_capacity(chunk.len() * 160));
        for app in chunk {
            write_app(&mut part, app);
        }
        w.len(chunk.len());
        w.len(part.0.len());
        w.0.extend_from_slice(&part.0);
    }
    let sum = checksum(&w.0[body_start..]);
    w.0.extend_from_slice(&sum.to_le_bytes());
    w.0
}

fn write_app(w: &mut Writer, app: &AppListItem) {
    w.str(&app.id);
    w.str(&app.app_id);
    w.opt(app.display_name.as_deref());
    w.opt(app.sign_in_audience.as_deref());
    w.len(app.password_credentials.len());
    for secret in &app.password_credentials {
        w.opt(secret.display_name.as_deref());
        w.opt(secret.key_id.as_deref());
        w.opt(secret.end_date_time.as_deref());
    }
    w.len(app.key_credentials.len());
    for certificate in &app.key_credentials {
        w.opt(certificate.display_name.as_deref());
        w.opt(certificate.key_id.as_deref());
        w.opt(certificate.end_date_time.as_deref());
        w.opt(certificate.key_type.as_deref());
        w.opt(certificate.usage.as_deref());
    }
    w.len(app.identifier_uris.len());
    for uri in &app.identifier_uris {
        w.str(uri);
    }
    match &app.federated_identity_credentials {
        None => w.u8(0),
        Some(fics) => {
            w.u8(1);
            w.len(fics.len());
            for fic in fics {
                w.json(fic);
            }
        }
    }
}

/// The order the file keeps apps in: by display name as the console sorts it (ASCII letters
/// folded), then by object id.
#[cfg(test)]
fn name_order(a: &AppListItem, b: &AppListItem) -> std::cmp::Ordering {
    folded_name(a)
        .cmp(&folded_name(b))
        .then_with(|| a.id.cmp(&b.id))
}

fn folded_name(app: &AppListItem) -> Vec<u8> {
    let name = app.display_name.as_deref().unwrap_or_default().as_bytes();
    name.iter().map(u8::to_ascii_lowercase).collect()
}

/// The cache in `bytes`, or why it cannot be used (a sentence fragment for the log).
pub(super) fn decode(bytes: &[u8]) -> Result<ListCache, String> {
    let (mut cache, apps) = decode_in_order(bytes)?;
    cache.apps = apps.into_iter().map(|app| (app.id.clone(), app)).collect();
    Ok(cache)
}

/// The cache without its apps, and the apps in the file's order (by name).
pub(super) fn decode_in_order(bytes: &[u8]) -> Result<(ListCache, Vec<AppListItem>), String> {
    let (head, mut r) = decode_head(bytes)?;
    let count = r.count(40)?;
    let chunks = r.count(8)?;
    let mut parts = Vec::with_capacity(chunks);
    for _ in 0..chunks {
        let apps = r.count(40)?;
        let length = r.u32()? as usize;
        parts.push((apps, r.take(length)?));
    }
    if r.at != r.bytes.len() {
        return Err(format!("{} bytes past its end", r.bytes.len() - r.at));
    }
    if parts.iter().map(|(n, _)| n).sum::<usize>() != count {
        return Err(format!("chunks that do not add up to its {count} apps"));
    }
    let apps = decode_chunks(&parts, count)?;
    let cache = ListCache {
        version: super::FORMAT_VERSION,
        tenant_id: head.tenant_id,
        saved_at: head.saved_at,
        apps: Default::default(),
        identities: head.identities,
        apps_delta_link: head.apps_delta_link,
        identities_delta_link: head.identities_delta_link,
    };
    Ok((cache, apps))
}

/// Everything before the apps: the tenant, the links and the managed identities.
pub(super) struct Head {
    pub tenant_id: String,
    pub saved_at: i64,
    pub apps_delta_link: Option<String>,
    pub identities_delta_link: Option<String>,
    pub identities: Vec<Identity>,
}

/// The file's checked header and identities, and a reader at its apps.
pub(super) fn decode_head(bytes: &[u8]) -> Result<(Head, Reader<'_>), String> {
    if bytes.len() < MAGIC.len() + 4 + 8 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a ficus list cache of this version (an older ficus wrote JSON)".into());
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&bytes[8..12]);
    let version = u32::from_le_bytes(version);
    if version != super::FORMAT_VERSION {
        return Err(format!(
            "format {version} where ficus reads {}",
            super::FORMAT_VERSION
        ));
    }
    let (body, sum) = bytes[12..].split_at(bytes.len() - 12 - 8);
    let mut stored = [0u8; 8];
    stored.copy_from_slice(sum);
    if checksum(body) != u64::from_le_bytes(stored) {
        return Err("its checksum does not match (damaged or cut short)".into());
    }
    let mut r = Reader { bytes: body, at: 0 };
    let tenant_id = r.string()?;
    let saved_at = r.i64()?;
    let apps_delta_link = r.opt()?;
    let identities_delta_link = r.opt()?;
    let count = r.count(17)?;
    let mut identities = Vec::with_capacity(count);
    for _ in 0..count {
        let name = r.string()?;
        let kind = match r.u8()? {
            0 => IdentityKind::UserAssigned,
            1 => IdentityKind::SystemAssigned,
            other => return Err(format!("an identity kind {other} at byte {}", r.at)),
        };
        identities.push(Identity {
            name,
            kind,
            client_id: r.string()?,
            principal_id: r.string()?,
            arm_id: r.opt()?,
            subscription: r.opt()?,
            resource_group: r.opt()?,
            tenant_id: r.opt()?,
        });
    }
    Ok((
        Head {
            tenant_id,
            saved_at,
            apps_delta_link,
            identities_delta_link,
            identities,
        },
        r,
    ))
}

/// The chunks' apps in order, decoded on up to as many threads as there are cores.
fn decode_chunks(parts: &[(usize, &[u8])], count: usize) -> Result<Vec<AppListItem>, String> {
    let decode = |group: &[(usize, &[u8])]| -> Result<Vec<AppListItem>, String> {
        let mut apps = Vec::with_capacity(group.iter().map(|(n, _)| n).sum());
        for &(n, bytes) in group {
            let mut r = Reader { bytes, at: 0 };
            for _ in 0..n {
                apps.push(app(&mut r)?);
            }
            if r.at != bytes.len() {
                return Err(format!(
                    "a chunk with {} bytes past its end",
                    bytes.len() - r.at
                ));
            }
        }
        Ok(apps)
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(parts.len());
    if threads <= 1 {
        return decode(parts);
    }
    let per_thread = parts.len().div_ceil(threads);
    let groups: Vec<Result<Vec<AppListItem>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .chunks(per_thread)
            .map(|group| scope.spawn(move || decode(group)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a decoding thread panicked".into()))
            })
            .collect()
    });
    let mut apps = Vec::with_capacity(count);
    for group in groups {
        apps.extend(group?);
    }
    Ok(apps)
}

fn app(r: &mut Reader<'_>) -> Result<AppListItem, String> {
    let id = r.string()?;
    let app_id = r.string()?;
    let display_name = r.opt()?;
    let sign_in_audience = r.opt()?;
    let secrets = r.count(3)?;
    let mut password_credentials = Vec::with_capacity(secrets);
    for _ in 0..secrets {
        password_credentials.push(PasswordCredential {
            display_name: r.opt()?,
            key_id: r.opt()?,
            end_date_time: r.opt()?,
            hint: None,
        });
    }
    let certificates = r.count(5)?;
    let mut key_credentials = Vec::with_capacity(certificates);
    for _ in 0..certificates {
        key_credentials.push(KeyCredential {
            display_name: r.opt()?,
            key_id: r.opt()?,
            end_date_time: r.opt()?,
            key_type: r.opt()?,
            usage: r.opt()?,
        });
    }
    let uris = r.count(4)?;
    let mut identifier_uris = Vec::with_capacity(uris);
    for _ in 0..uris {
        identifier_uris.push(r.string()?);
    }
    let federated_identity_credentials = match r.u8()? {
        0 => None,
        1 => {
            let fics = r.count(1)?;
            let mut list = Vec::with_capacity(fics);
            for _ in 0..fics {
                list.push(r.json(0)?);
            }
            Some(list)
        }
        other => return Err(format!("a FIC marker {other} at byte {}", r.at)),
    };
    Ok(AppListItem {
        id,
        app_id,
        display_name,
        sign_in_audience,
        password_credentials,
        key_credentials,
        identifier_uris,
        federated_identity_credentials,
    })
}

/// A word-at-a-time FNV-style hash: cheap next to reading the file, enough to notice a
/// damaged or truncated one (not a defence against a crafted file: the directory is 0700).
fn checksum(bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        hash = (hash ^ u64::from_le_bytes(w))
            .wrapping_mul(PRIME)
            .rotate_left(23);
    }
    for &byte in words.remainder() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
    }
    hash
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    /// A FIC as Graph returned it: objects, arrays and strings natively, anything else
    /// (numbers, booleans) as its JSON text.
    fn json(&mut self, value: &Value) {
        match value {
            Value::Null => self.u8(0),
            Value::String(s) => {
                self.u8(1);
                self.str(s);
            }
            Value::Array(items) => {
                self.u8(2);
                self.len(items.len());
                items.iter().for_each(|item| self.json(item));
            }
            Value::Object(map) => {
                self.u8(3);
                self.len(map.len());
                for (key, item) in map {
                    self.str(key);
                    self.json(item);
                }
            }
            other => {
                self.u8(4);
                self.str(&other.to_string());
            }
        }
    }
}

pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("cut short at byte {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }
    fn i64(&mut self) -> Result<i64, String> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(i64::from_le_bytes(b))
    }
    /// A count of items each at least `min_bytes` long: one the rest of the file cannot hold
    /// is refused before anything is allocated for it.
    fn count(&mut self, min_bytes: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_bytes.max(1)) > self.bytes.len() - self.at {
            return Err(format!("a count of {n} past the end at byte {}", self.at));
        }
        Ok(n)
    }
    fn str(&mut self) -> Result<&'a str, String> {
        let n = self.u32()? as usize;
        let at = self.at;
        std::str::from_utf8(self.take(n)?).map_err(|_| format!("text that is not UTF-8 at {at}"))
    }
    fn string(&mut self) -> Result<String, String> {
        self.str().map(str::to_owned)
    }
    fn opt(&mut self) -> Result<Option<String>, String> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            other => Err(format!("a marker {other} at byte {}", self.at - 1)),
        }
    }
    fn json(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 16 {
            return Err(format!("values nested too deep at byte {}", self.at));
        }
        Ok(match self.u8()? {
            0 => Value::Null,
            1 => Value::String(self.string()?),
            2 => {
                let n = self.count(1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.json(depth + 1)?);
                }
                Value::Array(items)
            }
            3 => {
                let n = self.count(5)?;
                let mut map = serde_json::Map::new();
                for _ in 0..n {
                    let key = self.string()?;
                    map.insert(key, self.json(depth + 1)?);
                }
                Value::Object(map)
            }
            4 => {
                let at = self.at;
                serde_json::from_str(self.str()?)
                    .map_err(|e| format!("a value that is not JSON at {at}: {e}"))?
            }
            other => return Err(format!("a value marker {other} at byte {}", self.at - 1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ListCache {
        let mut cache = ListCache::new("tenant-1");
        cache.apps_delta_link = Some("https://graph/v1.0/applications/delta?$deltatoken=x".into());
        for i in 0..3 {
            cache.upsert(AppListItem {
                id: format!("id-{i}"),
                app_id: format!("app-{i}"),
                display_name: (i != 1).then(|| format!("päy-{i} ✓")),
                sign_in_audience: Some("AzureADMyOrg".into()),
                password_credentials: vec![PasswordCredential {
                    display_name: Some("s".into()),
                    key_id: Some("k".into()),
                    end_date_time: Some("2027-01-01T00:00:00Z".into()),
                    hint: Some("abc".into()),
                }],
                key_credentials: vec![KeyCredential {
                    display_name: None,
                    key_id: Some("c".into()),
                    end_date_time: None,
                    key_type: Some("AsymmetricX509Cert".into()),
                    usage: Some("Verify".into()),
                }],
                identifier_uris: vec!["api://x".into()],
                federated_identity_credentials: (i != 2).then(|| {
                    vec![serde_json::json!({
                        "id": "f", "name": "mi", "subject": "s", "description": null,
                        "audiences": ["api://AzureADTokenExchange"], "extra": 3, "flag": true
                    })]
                }),
            });
        }
        cache.identities.push(Identity {
            name: "id-a".into(),
            kind: IdentityKind::SystemAssigned,
            client_id: "c".into(),
            principal_id: "p".into(),
            arm_id: None,
            subscription: Some("sub".into()),
            resource_group: None,
            tenant_id: Some("t".into()),
        });
        cache
    }

    /// Everything the console shows survives the round trip; the secret hints do not
    /// (`upsert` dropped them already).
    #[test]
    fn a_cache_reads_back_as_written() {
        let cache = sample();
        let bytes = encode(&cache);
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back, cache);
        assert_eq!(back.apps["id-0"].password_credentials[0].hint, None);
        assert_eq!(
            back.apps["id-0"]
                .federated_identity_credentials
                .as_ref()
                .unwrap()[0]["extra"],
            3
        );
    }

    /// A cache of several chunks (decoded on several threads) reads back whole, in order.
    #[test]
    fn a_cache_of_many_chunks_reads_back_as_written() {
        let mut cache = ListCache::new("tenant-1");
        for i in 0..(CHUNK_APPS * 2 + 7) {
            cache.upsert(AppListItem {
                id: format!("{i:08}"),
                app_id: format!("app-{i}"),
                display_name: Some(format!("App-{:06}", (i * 7919) % 100_000)),
                sign_in_audience: None,
                password_credentials: Vec::new(),
                key_credentials: Vec::new(),
                identifier_uris: Vec::new(),
                federated_identity_credentials: Some(Vec::new()),
            });
        }
        let bytes = encode(&cache);
        assert_eq!(decode(&bytes).expect("decodes"), cache);
        let (_, in_order) = decode_in_order(&bytes).expect("decodes");
        assert_eq!(in_order.len(), cache.apps.len());
        assert!(
            in_order
                .windows(2)
                .all(|w| name_order(&w[0], &w[1]).is_lt()),
            "kept by name"
        );
    }

    /// Every truncation and every flipped byte is refused with a reason, never a panic or
    /// a different cache.
    #[test]
    fn a_damaged_file_is_refused() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x5a;
            assert!(decode(&damaged).is_err(), "byte {at} flipped");
        }
        let mut other = bytes.clone();
        other[8..12].copy_from_slice(&7u32.to_le_bytes());
        let error = decode(&other).expect_err("another version");
        assert!(error.contains("format 7"), "{error}");
        assert!(decode(b"{\"version\":1}").is_err());
    }
}
