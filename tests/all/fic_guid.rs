//! `fic::guid`: the one well-known id table and the one way to recognise a GUID.

use ficus::cloud::TOKEN_EXCHANGE_APP_ID;
use ficus::fic::guid::{WELL_KNOWN, WellKnownKind};
use ficus::fic::{
    GuidKind, Known, TenantRecord, is_guid, looks_like_guid, normalize_guid, resolve_guid,
    well_known, well_known_guid,
};

#[test]
fn the_table_is_the_union_of_the_old_two() {
    // Ids the console's table had and fic's had not, and the other way round.
    for (id, name) in [
        (TOKEN_EXCHANGE_APP_ID, "AAD Token Exchange Endpoint"),
        ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
        (
            "00000002-0000-0000-c000-000000000000",
            "Windows Azure Active Directory",
        ),
        (
            "797f4846-ba00-4fd7-ba43-dac1f8f63013",
            "Windows Azure Service Management API",
        ),
        (
            "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            "Microsoft Azure CLI",
        ),
        (
            "1950a258-227b-4e31-a9cf-717495945fc2",
            "Microsoft Azure PowerShell",
        ),
        (
            "14d82eec-204b-4c2f-b7e8-296a70dab67e",
            "Microsoft Graph Command Line Tools",
        ),
        ("e406a681-f3d4-42a8-90b6-c2b029497af1", "Azure Storage"),
        ("cfa8b339-82a2-471a-a3c9-0fc0be7a4093", "Azure Key Vault"),
        ("f8cdef31-a31e-4b4a-93e4-5f571e91255a", "Microsoft Services"),
        ("72f988bf-86f1-41af-91ab-2d7cd011db47", "Microsoft"),
        ("9188040d-6c67-4c5b-b112-36a304b66dad", "Microsoft accounts"),
    ] {
        assert_eq!(well_known(id).map(|w| w.name), Some(name), "{id}");
    }
    // One entry per id, every id canonical.
    for (i, w) in WELL_KNOWN.iter().enumerate() {
        assert!(is_guid(w.id), "{}", w.id);
        assert!(
            WELL_KNOWN[i + 1..].iter().all(|o| o.id != w.id),
            "{} twice",
            w.id
        );
    }
}

#[test]
fn well_known_guid_gives_the_consoles_sentences() {
    let lines = well_known_guid(&format!(" {{{}}} ", TOKEN_EXCHANGE_APP_ID.to_uppercase()));
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("AAD Token Exchange Endpoint: "),
        "{lines:?}"
    );
    assert!(lines[0].contains("api://AzureADTokenExchange"), "{lines:?}");
    assert_eq!(
        well_known_guid("9188040d-6c67-4c5b-b112-36a304b66dad"),
        vec!["Microsoft accounts: the tenant id of personal Microsoft accounts (consumers)"]
    );
    assert!(well_known_guid("5f0c9e2a-7b1d-4c3e-9f00-00000000b0b1").is_empty());
    assert!(well_known_guid("not a guid").is_empty());
}

#[test]
fn resolve_guid_knows_well_known_tenants_unless_the_directory_names_them() {
    // fic's table had no tenants: the consumer tenant resolved to nothing.
    let found = resolve_guid("9188040d-6c67-4c5b-b112-36a304b66dad", &Known::default());
    assert_eq!(
        found.iter().map(|m| m.kind).collect::<Vec<_>>(),
        vec![GuidKind::WellKnownTenant]
    );
    assert_eq!(found[0].name, "Microsoft accounts");
    // A tenant the directory knows is named as the directory names it.
    let tenants = [TenantRecord {
        id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        display_name: "Contoso (test)".into(),
    }];
    let known = Known {
        tenants: &tenants,
        ..Known::default()
    };
    let found = resolve_guid("72f988bf-86f1-41af-91ab-2d7cd011db47", &known);
    assert_eq!(
        found.iter().map(|m| m.kind).collect::<Vec<_>>(),
        vec![GuidKind::TenantId]
    );
}

#[test]
fn guids_as_people_paste_them() {
    let canonical = "fb60f99c-7a34-4190-8149-302f77469936";
    assert!(is_guid(canonical));
    assert!(is_guid(&canonical.to_uppercase()));
    assert!(!is_guid(&format!("{{{canonical}}}")));
    assert!(!is_guid("gb60f99c-7a34-4190-8149-302f77469936"));
    assert!(!is_guid(""));
    for pasted in [
        canonical.to_string(),
        format!("  {canonical}\n"),
        format!("{{{canonical}}}"),
        format!("\"{canonical}\""),
        format!("'{canonical}'"),
        format!("urn:uuid:{canonical}"),
        canonical.replace('-', ""),
    ] {
        assert_eq!(
            normalize_guid(&pasted).as_deref(),
            Some(canonical),
            "{pasted:?}"
        );
        assert!(looks_like_guid(&pasted), "{pasted:?}");
    }
    // Letter case is kept: FIC matching is case-sensitive.
    assert_eq!(
        normalize_guid(&canonical.to_uppercase()),
        Some(canonical.to_uppercase())
    );
    for not in [
        "payments-api",
        "fb60f99c-7a34-4190-8149-302f7746993",
        "fb60f99c-7a34-4190-8149-302f774699366",
        "{fb60f99c-7a34-4190-8149-302f77469936",
        "fb60f99c_7a34_4190_8149_302f77469936",
        "",
    ] {
        assert_eq!(normalize_guid(not), None, "{not:?}");
        assert!(!looks_like_guid(not), "{not:?}");
    }
    assert_eq!(
        WellKnownKind::App,
        well_known(canonical)
            .map(|w| w.kind)
            .unwrap_or(WellKnownKind::Tenant)
    );
}
