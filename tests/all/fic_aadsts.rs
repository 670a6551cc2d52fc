//! One parser for Entra's error text: codes, OAuth error, message, trace and correlation ids.

use ficus::fic::aadsts::{
    aadsts_codes, correlation_id_in, entra_message, first_aadsts, parse_sts_message, trace_id_in,
};

const BODY: &str = r#"{"error":"invalid_client","error_description":"AADSTS700213: No matching federated identity record found for presented assertion subject 'x'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. Trace ID: 0b1c7e5e-1f2a-4c3b-9d4e-5f6a7b8c9d0e Correlation ID: 3a4b5c6d-7e8f-4a1b-8c2d-3e4f5a6b7c8d Timestamp: 2025-10-13 14:54:34Z","error_codes":[700213],"timestamp":"2025-10-13 14:54:34Z","trace_id":"0b1c7e5e-1f2a-4c3b-9d4e-5f6a7b8c9d0e","correlation_id":"3a4b5c6d-7e8f-4a1b-8c2d-3e4f5a6b7c8d"}"#;

#[test]
fn a_token_endpoint_body() {
    let m = parse_sts_message(BODY);
    assert_eq!(m.codes, vec![700213]);
    assert_eq!(m.code(), Some(700213));
    assert_eq!(m.error.as_deref(), Some("invalid_client"));
    assert_eq!(
        m.message.as_deref(),
        Some(
            "No matching federated identity record found for presented assertion subject 'x'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion."
        )
    );
    assert_eq!(
        m.trace_id.as_deref(),
        Some("0b1c7e5e-1f2a-4c3b-9d4e-5f6a7b8c9d0e")
    );
    assert_eq!(
        m.correlation_id.as_deref(),
        Some("3a4b5c6d-7e8f-4a1b-8c2d-3e4f5a6b7c8d")
    );
    assert_eq!(m.timestamp.as_deref(), Some("2025-10-13 14:54:34Z"));
}

#[test]
fn sdk_text_without_a_json_body_still_gives_the_ids() {
    // azure-identity prints the description only: the ids must come out of the text.
    let text = "azure.core.exceptions.ClientAuthenticationError: Microsoft Entra ID error '(invalid_client) AADSTS70021: No matching federated identity record found for presented assertion. Trace ID: 11111111-2222-3333-4444-555555555555 Correlation ID: 66666666-7777-8888-9999-000000000000 Timestamp: 2025-01-01 00:00:00Z'";
    let m = parse_sts_message(text);
    assert_eq!(m.codes, vec![70021]);
    assert_eq!(m.error.as_deref(), Some("invalid_client"));
    assert_eq!(
        m.message.as_deref(),
        Some("No matching federated identity record found for presented assertion.")
    );
    assert_eq!(
        m.trace_id.as_deref(),
        Some("11111111-2222-3333-4444-555555555555")
    );
    assert_eq!(
        m.correlation_id.as_deref(),
        Some("66666666-7777-8888-9999-000000000000")
    );
    assert_eq!(m.timestamp.as_deref(), Some("2025-01-01 00:00:00Z"));
}

#[test]
fn msal_dict_printed_by_python() {
    let text = "{'error': 'invalid_client', 'error_description': 'AADSTS700211: No matching federated identity record found for presented assertion issuer. Trace ID: ab-1 Correlation ID: cd-2', 'error_codes': [700211]}";
    let m = parse_sts_message(text);
    assert_eq!(m.code(), Some(700211));
    assert_eq!(m.error.as_deref(), Some("invalid_client"));
    assert_eq!(
        m.message.as_deref(),
        Some("No matching federated identity record found for presented assertion issuer.")
    );
    assert_eq!(m.trace_id.as_deref(), Some("ab-1"));
    assert_eq!(m.correlation_id.as_deref(), Some("cd-2"));
}

#[test]
fn codes_in_any_case_in_order_without_repeats() {
    // The Entra client's copy was case-sensitive and kept no order of precedence.
    assert_eq!(
        aadsts_codes("aadsts700213 then AADSTS50013, again AADSTS700213"),
        vec![700213, 50013]
    );
    assert_eq!(aadsts_codes("nothing here AADSTS"), Vec::<u32>::new());
    // More than 9 digits is not a code, and does not overflow.
    assert_eq!(
        aadsts_codes("AADSTS12345678901234567890"),
        Vec::<u32>::new()
    );
    assert_eq!(first_aadsts("x AADSTS7000215: y"), Some((7000215, 15)));
    // Non-ASCII text around the code does not break offsets.
    assert_eq!(aadsts_codes("é AADSTS90002 ü"), vec![90002]);
}

#[test]
fn the_message_without_prefix_and_trace_tail() {
    assert_eq!(
        entra_message("AADSTS700213: No match.\r\nTrace ID: t1\r\nCorrelation ID: c1"),
        Some("No match.".into())
    );
    assert_eq!(
        entra_message("No code here. Trace ID: t"),
        Some("No code here.".into())
    );
    assert_eq!(entra_message("AADSTS700213:"), None);
    assert_eq!(trace_id_in("x trace id: abc-123 y"), Some("abc-123".into()));
    assert_eq!(correlation_id_in("no ids"), None);
}

#[test]
fn explain_reads_through_the_same_parser() {
    let e = ficus::fic::explain(BODY).expect("explained");
    let m = parse_sts_message(BODY);
    assert_eq!(Some(e.code), m.code());
    assert_eq!(e.entra_message, m.message);
    assert_eq!(e.error, m.error);
}
